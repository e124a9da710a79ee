"""A plan's life after day 1: batches that keep their VMs, plans frozen once
done, retired plans, runs (start, retry, cancel, resume) and waves.

In at lock time: the spec, the resolution and the previous lock. Out: the
batch assignment and the frozen plans the new lock records.
In at build time: the spec and the lock. Out: the Forklift plans to build (a
batched spec plan becomes one plan per batch, named <plan>-NN).

Why freezing: Forklift never reconciles a Succeeded Plan again, so a done plan
must stay exactly as it ran, whatever happens to the source afterwards: its
VMs are copied from the previous lock, never re-selected, and an edit to it is
an error (the controller would ignore the edit).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec

from .names import batch_name, batch_number, batch_of  # noqa: F401  (lifecycle.batch_* for callers)
from .quantity import duration_seconds  # noqa: F401  (lifecycle.duration_seconds for callers)
from .sitemodel import PlanSpec, Site, digest
from .spec import object_name

# What may still change on a done plan: marking it done, retired or archived, and its
# `start` (a done plan never gets a Migration again, whatever `start` says).
FROZEN_EXEMPT = ("done", "retired", "archived", "start")


DIGEST_V2 = "effective:"


def plan_digest(plan: PlanSpec, members: list[str] | None = None) -> str:
    """What a done plan may no longer change: its effective settings (its own spec but
    FROZEN_EXEMPT, the `defaults:` it inherits, the mappings it uses) and its members (the
    VM ids the lock lists). An edit of the site's defaults or a merge that changes its VMs
    is an edit of the done plan too. `members` None: the digest of locks written before
    (the plan's own spec only), still honoured when read (frozen_matches)."""
    own = {k: v for k, v in plan.raw.items() if k not in FROZEN_EXEMPT}
    if members is None:
        return digest(own)
    inherited = {k: v for k, v in (plan.defaults_raw or {}).items() if k not in own}
    maps = [_entries(m) for m in (plan.network_map, plan.storage_map)]
    return DIGEST_V2 + digest({"plan": own, "defaults": inherited, "maps": maps, "vms": sorted(members)})


def members(lock, name: str) -> list[str]:
    """The VM ids the lock lists for a plan or batch (a batched plan: all of its batches)."""
    if name in lock.plans:
        return list(lock.plans[name])
    return [vm for b in lock.batches.get(name, []) for vm in lock.plans.get(b, [])]


def frozen_matches(frozen: str, plan: PlanSpec, members: list[str]) -> bool:
    """Is the done plan what the lock froze? A lock written before effective digests keeps
    its own kind of digest until the plan is frozen again."""
    if frozen.startswith(DIGEST_V2):
        return frozen == plan_digest(plan, members)
    return frozen == plan_digest(plan)


def fully_done(plan: PlanSpec, batches: list[str]) -> bool:
    """Done as a whole: `done: true`, or every batch it has listed in `done:`."""
    if plan.done:
        return True
    return bool(plan.done_batches) and bool(batches) and {batch_number(b) for b in batches} <= set(plan.done_batches)


def done_batches(plan: PlanSpec, batches: list[str]) -> list[str]:
    """The batches of `plan` (names from a lock) that `done:` lists."""
    return [b for b in batches if batch_number(b) in plan.done_batches]


def spec_plan_of(name: str, plans: list[PlanSpec]) -> PlanSpec | None:
    """The spec plan that `name` (a plan or one of its batches) belongs to, or None."""
    by_name = {p.name: p for p in plans}
    if name in by_name:
        return by_name[name]
    parent, number = batch_of(name, {p.name for p in plans if p.batch_max is not None})
    return by_name[parent] if number else None


def only(site: Site, names) -> Site:
    """The site with only the plans `names` asks for (`status --plan`): a plan, one of its
    batches, or a batched plan meaning all its batches. No names: the site as it is."""
    if not names:
        return site

    def wanted(plan: PlanSpec) -> bool:
        parent = spec_plan_of(plan.name, site.spec_plans)
        return plan.name in names or (parent is not None and parent.name in names)
    return msgspec.structs.replace(site, plans=[p for p in site.plans if wanted(p)])


def batch_started(plan: PlanSpec, number: int) -> bool:
    """`start:` starts every batch, or those its `batches:` lists."""
    return plan.start is not None and (not plan.start.batches or number in plan.start.batches)


def assign_batches(plan: PlanSpec, vm_ids: list[str], old_plans: dict, old_batches: list[str],
                   closed: set[str]) -> dict[str, list[str]]:
    """Batch name -> VM ids. A started or done batch (`closed`) keeps its VMs for good. A
    batch that has not started keeps the VMs the previous lock gave it, up to `maxVMs`:
    when `maxVMs` is lowered, what no longer fits moves on, to the next open batch with room
    or a new one, so every open batch holds at most `maxVMs` (lowering 20 to 15 used to
    change nothing). A vanished VM leaves a gap; a new VM takes the first room. Batches are
    never renumbered, so a started batch keeps its Plan and its VMs."""
    batches = {name: [] for name in old_batches}
    where = {vm: name for name in old_batches for vm in old_plans.get(name, [])}
    moving = []
    for vm in vm_ids:
        name = where.get(vm)
        if name is None:
            continue
        if name in closed or len(batches[name]) < plan.batch_max:
            batches[name].append(vm)
        else:
            moving.append(vm)           # over the (lowered) limit of an open batch
    for vm in moving + [v for v in vm_ids if v not in where]:
        name = next((n for n in batches if n not in closed and len(batches[n]) < plan.batch_max), None)
        if name is None:
            name = batch_name(plan.name, len(batches) + 1)
            batches[name] = []
        batches[name].append(vm)
    order = {vm: i for i, vm in enumerate(vm_ids)}     # a batch lists its VMs as the selection does
    return {name: sorted(ids, key=order.__getitem__) for name, ids in batches.items()}


def closed_batches(plan: PlanSpec, names: list[str]) -> set[str]:
    """Batches that take no new VM: done, or started."""
    out = set()
    for name in names:
        number = batch_number(name)
        if plan.done or number in plan.done_batches or batch_started(plan, number):
            out.add(name)
    return out


def batch_wave(plan: PlanSpec, batch: str) -> int | None:
    """The wave a batch runs in: its own (`batch: {waves: {web-03: 3}}`), else its plan's."""
    return next((n for name, n, _ in plan.batch_waves if name == batch), plan.wave)


def expand(site: Site, lock) -> Site:
    """The Forklift plans of a site: batched plans become their batches (with the VMs the
    lock assigned; an emptied batch drops out), retired plans stay out of `plans`."""
    plans = []
    for p in site.spec_plans:
        if p.batch_max is None:
            plans.append(p)
            continue
        for name in lock.batches.get(p.name, []):
            if not lock.plans.get(name):
                continue
            number = batch_number(name)
            # a batch retried on its own runs its own attempt: its Migration is <batch>-<attempt>
            start = msgspec.structs.replace(p.start, attempt=p.start.attempt_of(name)) \
                if batch_started(p, number) else None
            plans.append(msgspec.structs.replace(p, name=name, object_name=object_name(site.name, name), start=start,
                                                 done=p.done or number in p.done_batches, batch=number,
                                                 parent=p.name, wave=batch_wave(p, name)))
    return msgspec.structs.replace(site, plans=plans, spec_plans=site.spec_plans)


class Pin(msgspec.Struct, frozen=True, omit_defaults=True):
    """A running plan or batch, as the lock holds it still: its attempt, since when
    (the lock, `mtvgen start` or `mtvgen retry` took it): a cutover already past then
    would cut over at once; and a digest of each object its run depends on then
    (run_settings), so an edit of one of them mid-run is seen."""
    attempt: int
    since: str            # ISO 8601, UTC
    settings: dict[str, str] = {}


# What a Plan's own spec.yaml keys change on the cluster. Not: what selects its VMs (a
# running plan's VMs are pinned), its wave (delivery only), its maps (digested apart).
_NOT_IN_PLAN_OBJECT = FROZEN_EXEMPT + ("name", "select", "exclude", "batch", "wave", "networks", "storage")
_NOT_IN_PROVIDER = ("hosts", "datacenters")     # Host objects and selection: not the Provider


def run_settings(site: Site, plan: PlanSpec) -> dict[str, str]:
    """A digest of each object Forklift's run of `plan` depends on, by the name messages use.
    Up to 2.11 an edit of any of them cancels the run (profile.cancels_on_edit)."""
    own = {k: v for k, v in plan.raw.items() if k not in _NOT_IN_PLAN_OBJECT}
    inherited = {k: v for k, v in (plan.defaults_raw or {}).items() if k not in plan.raw}
    raw = site.raw                     # a mapping: the schema holds a loaded spec to one
    return {
        "Plan": digest({"plan": own, "defaults": inherited}),
        "NetworkMap": digest(_entries(plan.network_map)),
        "StorageMap": digest(_entries(plan.storage_map)),
        "source Provider": digest({k: v for k, v in (raw.get("source") or {}).items() if k not in _NOT_IN_PROVIDER}),
        "destination Provider": digest(raw.get("destination") or {}),
    }


def _entries(m) -> list:
    return [(e.kind, e.source, e.id, e.datacenter, e.target, e.storage_class, e.volume_mode, e.access_mode,
             e.offload) for e in m.entries]


def running(site: Site, batches: dict[str, list[str]]) -> dict[str, tuple[PlanSpec, int]]:
    """Plans and batches whose run Git has not ended (started, not done, not retired):
    name -> (the spec plan, its attempt). `batches`: the lock's batch names per plan."""
    out = {}
    for p in site.spec_plans:
        if p.start is None or p.done or p.retired:
            continue
        if p.batch_max is None:
            out[p.name] = (p, p.start.attempt)
            continue
        for name in batches.get(p.name, []):
            number = batch_number(name)
            if batch_started(p, number) and number not in p.done_batches:
                out[name] = (p, p.start.attempt_of(name))
    return out


def pinned(site: Site, old) -> dict[str, list[str]]:
    """Why pinning: Forklift runs what the Plan named when its Migration started, and a
    re-lock must not re-resolve it (a renamed VM would get another target name, a moved
    one would leave the running Plan). Running plans and batches the previous lock
    pinned -> their VM ids then."""
    if old is None:
        return {}
    return {name: list(old.plans.get(name, [])) for name in running(site, old.batches) if name in old.started}


def pins(site: Site, lock, old, now: str = "") -> dict[str, Pin]:
    """The new lock's pins: every running plan or batch. A pin keeps its `since` while its
    attempt is the same; a new start or attempt is pinned now."""
    now = now or utc_now()
    out = {}
    for name, (plan, attempt) in running(site, lock.batches).items():
        was = old.started.get(name) if old is not None else None
        if was is not None and was.attempt == attempt:
            # a pin from before run settings were kept takes them now: edits made since its
            # start are not seen, later ones are
            out[name] = was if was.settings else Pin(attempt, was.since, run_settings(site, plan))
        else:
            out[name] = Pin(attempt, now, run_settings(site, plan))
    return dict(sorted(out.items()))


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def live(site: Site) -> list[PlanSpec]:
    """The plans that are built into the output (not retired)."""
    return [p for p in site.plans if not p.retired]


def runs(plan: PlanSpec) -> bool:
    """Does the plan get a Migration? Started, and neither done nor archived (an archived
    plan is not reconciled; a done one has run)."""
    return plan.start is not None and not plan.done and not plan.options.get("archived")


def window_start(wave) -> datetime | None:
    try:
        t = datetime.fromisoformat(wave.start)
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


def window_end(wave) -> datetime | None:
    start = window_start(wave)
    return None if start is None else start + timedelta(seconds=duration_seconds(wave.duration))
