"""The stages wired together, for the CLI and for tests. No click here."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import check, delivery, emit, lifecycle, lock as lockmod, render, resolve, spec, validate
from .diagnostics import Diagnostic, finalize, has_errors, summary
from .errors import DiagnosticsFailed, LockError
from .inventory.base import InventorySource

EXCLUDE_MARKER = ".mtvgen-exclude"   # a site directory holding this file is skipped by a plain `mtvgen build`


@dataclass(frozen=True)
class Options:
    strict: bool = False
    allow_plaintext: bool = False
    now: datetime | None = None
    environ: dict | None = None


@dataclass
class SiteResult:
    name: str
    files: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def discover(sites_dir: Path) -> list[Path]:
    """Every site under sites/, except those marked excluded."""
    return sorted(p.parent for p in Path(sites_dir).glob(f"*/{spec.SPEC_FILE}")
                  if not (p.parent / EXCLUDE_MARKER).exists())


def _fail(diags: list[Diagnostic], what: str) -> None:
    if has_errors(diags):
        raise DiagnosticsFailed(diags, f"{what}: {summary(diags)}")


def check_site(site_dir: Path, opts: Options) -> tuple[spec.Site, lockmod.Lock, list[Diagnostic]]:
    site = spec.load(site_dir)
    lock = lockmod.read(site)
    site = lifecycle.expand(site, lock)
    diags = finalize(check.run(site, lock, now=opts.now, allow_plaintext=opts.allow_plaintext),
                     site.suppressions, opts.strict)
    return site, lock, diags


def compile_site(site_dir: Path, opts: Options) -> SiteResult:
    """spec + lock -> checked, rendered, validated file contents. Writes nothing."""
    site, lock, diags = check_site(site_dir, opts)
    _fail(diags, f"site {site.name}")
    environ = os.environ if opts.environ is None else opts.environ
    docs = render.render(site, lock, render.RenderOptions(opts.allow_plaintext, dict(environ)))
    bundle = delivery.deliver(site, docs)
    problems = finalize(validate.validate(site, bundle.documents))
    _fail(diags + problems, f"site {site.name}")
    return SiteResult(site.name, emit.files(site.name, bundle), diags + problems)


def lock_site(site_dir: Path, source: InventorySource, target=None
              ) -> tuple[spec.Site, lockmod.Lock, list[str], list[Diagnostic]]:
    """Resolve against a live (or snapshot) inventory; returns the new lock and
    what changed. `target(site)`, when given, reads the destination cluster's
    facts. Writes nothing: the caller writes only when all is well."""
    site = spec.load(site_dir)
    old, note = None, []
    if site.lock_path.exists():
        try:
            old = lockmod.read(site)
        except LockError as exc:  # a damaged or older lock is replaced, not a reason to stop
            note = [f"previous lock not readable ({exc.what}); replacing it"]
    try:
        inv = source.snapshot()
        res = resolve.resolve(site, inv, frozen_plans(site, old))
        diags = finalize(res.diagnostics, site.suppressions)
        _fail(diags, f"site {site.name}: cannot lock")
        # sources that read heavy facts lazily (vSphere) fetch them for the selected VMs only
        details = getattr(source, "details", None)
        if details is not None:
            inv = details(inv, {i for ids in res.plans.values() for i in ids})
    finally:
        source.close()
    new = lockmod.build(site, inv, res, target(site) if target is not None else None, old)
    return site, new, note + lockmod.changes(old, new), diags


def frozen_plans(site: spec.Site, old: lockmod.Lock | None) -> dict[str, list[str]]:
    """Done plans the previous lock has: plan -> its VMs (all its batches)."""
    if old is None:
        return {}
    out = {}
    for p in site.spec_plans:
        names = old.batches.get(p.name) or ([p.name] if p.name in old.plans else [])
        if names and lifecycle.fully_done(p, old.batches.get(p.name, [])):
            out[p.name] = [vm for n in names for vm in old.plans.get(n, [])]
    return out
