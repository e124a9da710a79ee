"""The stages wired together, for the CLI and for tests. No click here."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import msgspec

from . import (check, delivery, emit, ledger, lifecycle, lock as lockmod, lockdiff, policy, render, resolve,
               sitemodel, spec, validate, verify)
from .report import state as report_state, summary as report_summary
from .diagnostics import Diagnostic, finalize, has_errors, summary
from .errors import DiagnosticsFailed, Location, LockError, MtvgenError, UsageError
from .inventory.base import InventorySource
from .inventory.model import name_of
from .plan_model import Planner
from .checks.context import Context
from .checks.lifecycle import running_plans

EXCLUDE_MARKER = sitemodel.EXCLUDE_MARKER


class Options(msgspec.Struct, frozen=True):
    strict: bool = False
    allow_plaintext: bool = False
    now: datetime | None = None
    environ: dict | None = None


class SiteResult(msgspec.Struct):
    name: str
    files: dict[str, str] = msgspec.field(default_factory=dict)
    diagnostics: list[Diagnostic] = msgspec.field(default_factory=list)
    objects: list[tuple[str, str, str, Location]] = msgspec.field(default_factory=list)   # kind, namespace, name, where
    credentials: list[tuple[str, str, Location]] = msgspec.field(default_factory=list)   # policy.credential_refs
    # the VMs its plans that have not run will migrate: (source, VM id, name, plan, where)
    vms: list[tuple[str, str, str, str, Location]] = msgspec.field(default_factory=list)


def discover(sites_dir: Path) -> list[Path]:
    """Every site under sites/, except those marked excluded. A directory with a lock but no
    spec is an error, not a site that is gone: its output must not be removed."""
    found = []
    for d in sorted(p for p in Path(sites_dir).iterdir() if p.is_dir() and not p.name.startswith(".")):
        if (d / EXCLUDE_MARKER).exists():
            continue
        if (d / sitemodel.SPEC_FILE).is_file():
            found.append(d)
        elif (d / sitemodel.LOCK_FILE).exists():
            raise MtvgenError(f"{d} has a lock but no {sitemodel.SPEC_FILE}",
                              where=Location(str(d / sitemodel.SPEC_FILE)),
                              fix="restore site.yaml from Git, or delete the directory to retire the site")
    return found


def _fail(diags: list[Diagnostic], what: str) -> None:
    if has_errors(diags):
        raise DiagnosticsFailed(diags, f"{what}: {summary(diags)}")


def check_site(site_dir: Path, opts: Options) -> tuple[spec.Site, lockmod.Lock, list[Diagnostic], Planner]:
    """spec + lock -> the expanded site, its lock, the diagnostics, and the plans as
    the checks computed them (the renderer reuses them)."""
    site = spec.load(site_dir)
    lock = lockmod.read(site)
    site = lifecycle.expand(site, lock)
    planner = Planner(lock)
    diags = finalize(check.run(site, lock, now=opts.now, allow_plaintext=opts.allow_plaintext, planner=planner),
                     site.suppressions, opts.strict, site.acknowledgements)
    return site, lock, diags, planner


def compile_site(site_dir: Path, opts: Options) -> SiteResult:
    """spec + lock -> checked, rendered, validated file contents. Writes nothing."""
    site, lock, diags, bundle = _bundle(site_dir, opts)
    count = sum(1 for d in bundle.documents if d.kind in ("Application", "Kustomization"))
    problems = finalize(validate.validate(site, bundle.documents) + list(policy.units(site, count)))
    _fail(diags + problems, f"site {site.name}")
    objects = [(d.kind, d.namespace, d.name, d.where) for d in bundle.documents]
    source = ledger.provider_key(lock.provider)
    vms = [(source, vm, name_of(lock.vms, vm), p.name, p.where)
           for p in site.plans if not p.done and not p.retired for vm in lock.plans.get(p.name, [])]
    return SiteResult(site.name, emit.files(site.name, bundle), diags + problems, objects,
                      policy.credential_refs(site), vms)


def _bundle(site_dir: Path, opts: Options):
    site, lock, diags, planner = check_site(site_dir, opts)
    _fail(diags, f"site {site.name}")
    environ = os.environ if opts.environ is None else opts.environ
    docs = render.render(site, lock, render.RenderOptions(opts.allow_plaintext, dict(environ)), planner)
    return site, lock, diags, delivery.deliver(site, docs)


def summarize(site_dir: Path, opts: Options, base_out: Path | None, base_sites: Path | None
              ) -> report_summary.Summary:
    """The pull-request summary of one site against a base (report/summary.py)."""
    site, lock, diags, bundle = _bundle(site_dir, opts)
    head_docs = [d.body for d in bundle.documents if d.verbatim is None]
    head = report_state.from_documents(head_docs)
    base = report_state.from_tree(base_out / site.name) if base_out is not None else None
    base_docs = report_state.documents_of_tree(base_out / site.name) if base_out is not None else None
    base_diags = None
    if base_sites is not None and (base_sites / site.name / sitemodel.SPEC_FILE).exists():
        try:
            base_diags = check_site(base_sites / site.name, opts)[2]
        except DiagnosticsFailed as exc:
            base_diags = exc.diagnostics
        except MtvgenError:
            base_diags = None
    return report_summary.summary(site, lock, head, base, diags, base_diags, (base_docs, head_docs))


def clashes(results: list[SiteResult]) -> list[Diagnostic]:
    """Objects two sites would both write (a copied site): two GitOps applications would
    fight over each of them; and credentials two sites share for different hosts."""
    seen: dict[tuple, tuple[str, Location]] = {}
    out = list(policy.credential_pairs({r.name: r.credentials for r in results}))
    for r in results:
        for kind, ns, name, where in r.objects:
            key = (kind, ns, name)
            if key in seen and seen[key][0] != r.name:
                other, other_where = seen[key]
                out.append(Diagnostic("MTV003", f"{kind} {ns}/{name} is written by sites '{other}' and '{r.name}'",
                                      where, f"rename it in one of them (the other is at {other_where})"))
            seen.setdefault(key, (r.name, where))
    taken: dict[tuple[str, str], tuple[str, str]] = {}     # (source, VM id) -> (site, plan)
    for r in results:
        for source, vm, name, plan, where in r.vms:
            other = taken.setdefault((source, vm), (r.name, plan))
            if other[0] != r.name:
                out.append(Diagnostic("MTV154", f"VM {name!r} ({vm}) is in plan '{plan}' of site '{r.name}' and in "
                                      f"plan '{other[1]}' of site '{other[0]}'", where,
                                      "select it in one site only: both would migrate it", plan=plan, vm=vm))
    return out


def lock_site(site: sitemodel.Site, source: InventorySource, target=None, keep_target: bool = True
              ) -> tuple[lockmod.Lock, list[str], list[Diagnostic]]:
    """Resolve a loaded site against a live (or snapshot) inventory; returns the new
    lock and what changed. `target(site)`, when given, reads the destination
    cluster's facts; without it the previous lock's are kept, marked stale (a lock made
    without cluster access must not hide the errors they raise), unless not `keep_target`.
    Writes nothing: the caller writes only when all is well."""
    old, note, guard = None, [], []
    if site.lock_path.exists():
        try:
            old = lockmod.read(site)
        except LockError as exc:  # a damaged or older lock is replaced, not a reason to stop
            note = [f"previous lock not readable ({exc.what}); replacing it"]
    if old is not None:      # a running plan that left site.yaml: the lock would forget its pin
        guard = finalize(list(running_plans(Context(site, old))), site.suppressions,
                         acknowledgements=site.acknowledgements)
        _fail(guard, f"site {site.name}: cannot lock")
    try:
        inv = source.snapshot(selector_keys(site))
        frozen, pinned = frozen_plans(site, old), lifecycle.pinned(site, old)
        res, diags = _selected(site, inv, frozen, pinned, [])
        inv = source.details(inv, {i for ids in res.plans.values() for i in ids})
        skipped = _skipped(site, res, inv)
        if skipped:     # VMs Forklift's inventory would not list left inv.vms: select without them
            res, diags = _selected(site, inv, frozen, pinned, skipped)    # (fewer VMs never select a new one)
    finally:
        source.close()
    facts = target(site) if target is not None else None
    if facts is None and keep_target and old is not None and old.target is not None:
        facts = msgspec.structs.replace(old.target, stale=True)
        note.append(f"kept the cluster facts recorded from context {facts.context!r} (not read again: pass "
                    "--context to refresh them, --drop-cluster-facts to drop them)")
    new = lockmod.build(site, inv, res, facts, old)
    skipped = [f"plan {plan}: {len(ids)} VM(s) skipped, already moved ({site.ledger.file})"
               for plan, ids in sorted(res.moved.items())]
    return new, note + skipped + lockdiff.changes(old, new) + lockdiff.left(old, new, inv) + \
        lockdiff.pinned_drift(pinned, new, inv), guard + diags


def verify_site(site: sitemodel.Site, source: InventorySource, wave: int | None, plans: tuple[str, ...]
                ) -> tuple[list[Diagnostic], int, int]:
    """`mtvgen verify`: the VMs of the plans asked for (verify.scope), read again from the
    source and compared with the lock. Returns (the drift found, VMs read, plans read).
    Writes nothing; closes the source."""
    lock = lockmod.read(site)
    expanded = lifecycle.expand(site, lock)
    chosen = verify.scope(expanded, wave, plans)
    if not chosen:
        source.close()
        raise UsageError("no plan to verify" + (f" in wave {wave}" if wave is not None else "")
                         + (f" named {', '.join(plans)}" if plans else ""),
                         where=site.plans_where, fix="name a wave or plan of site.yaml that is not done")
    ids = {i for p in chosen for i in lock.plans.get(p.name, [])}
    try:
        # by id: a 500-VM wave of a 10k-VM vCenter reads 500 VMs; their tags when the lock has them
        inv = source.vms(ids, tags=any(lock.vms[i].tags for i in ids if i in lock.vms))
    finally:
        source.close()
    found = verify.drift(chosen, lock, inv) + verify.still_fits(expanded, chosen, lock, inv)
    return finalize(found, site.suppressions), len(ids), len(chosen)


def _selected(site: sitemodel.Site, inv, frozen: dict, pinned: dict, found: list[Diagnostic]):
    """Resolution and its diagnostics (with `found`), or DiagnosticsFailed."""
    res = resolve.resolve(site, inv, frozen, pinned)
    diags = finalize(res.diagnostics + found, site.suppressions)
    _fail(diags, f"site {site.name}: cannot lock")
    return res, diags


def _skipped(site: spec.Site, res: resolve.Resolution, inv) -> list[Diagnostic]:
    """An MTV084 per selected VM the source skipped (Inventory.skipped), at its plan."""
    where = {p.name: p.where for p in site.spec_plans}
    return [Diagnostic("MTV084", f"VM {inv.skipped[i][0]!r} ({i}) is left out of plan '{plan}': "
                       f"{inv.skipped[i][1]}", where.get(plan), plan=plan, vm=inv.skipped[i][0])
            for plan, ids in res.plans.items() for i in ids if i in inv.skipped]


def selector_keys(site: spec.Site) -> frozenset[str]:
    """Every key the site's selectors and excludes use, and the VM facts their `where:`
    expressions read: what a lock must read of every VM."""
    from . import selection
    sels = [sel for plan in site.spec_plans for sel in (*plan.select, *plan.exclude)]
    return frozenset(k for sel in sels for k in sel.criteria if k != "where") | \
        frozenset(f for sel in sels if "where" in sel.criteria for f in selection.fields_used(sel.criteria["where"]))


def frozen_plans(site: spec.Site, old: lockmod.Lock | None) -> dict[str, list[str]]:
    """Done plans the previous lock has: plan -> its VMs (all its batches)."""
    if old is None:
        return {}
    out = {}
    for p in site.spec_plans:
        names = old.batches.get(p.name) or ([p.name] if p.name in old.plans else [])
        if names and lifecycle.fully_done(p, old.batches.get(p.name, [])):
            # VMs its run did not migrate (`done --status`) are free for a new plan
            free = set(old.released.get(p.name, []))
            out[p.name] = [vm for n in names for vm in old.plans.get(n, []) if vm not in free]
    return out
