"""`mtvgen status` as data: the plans a site builds, as the cluster reports them.

In: the site (with its lock, so batches and attempts are known) and the Plans
and Migrations read from the cluster (inventory.kube.site_runs). Out: a
StatusReport, which view.py shows as a tree with progress bars or as JSON/YAML.
Pure: no network, no printing.
"""

from __future__ import annotations

from datetime import datetime, timezone

import msgspec

from .. import ledger, lifecycle
from ..sitemodel import PlanSpec, Site
from . import health


class VMStatus(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    outcome: str          # Succeeded | Failed | Canceled | Running | Queued
    phase: str
    step: str             # the pipeline step running now (or the last one that ran)
    copied_mb: int
    total_mb: int
    precopies: int        # warm runs: delta copies done so far
    cutover: str
    error: str
    copy_s: float = 0.0        # seconds its disk copy steps took (the MB-counted steps), when ended
    conversion_s: float = 0.0  # seconds its guest conversion took (ImageConversion), when ended
    completed: str = ""        # when it ended (RFC 3339)


class PlanStatus(msgspec.Struct, frozen=True, kw_only=True):
    plan: str             # as in site.yaml (a batch: <plan>-NN)
    object: str           # the Plan's name on the cluster
    found: bool
    health: str
    message: str
    migration: str        # the run shown ("" when none)
    run_health: str
    run_message: str
    counts: dict
    vms: tuple[VMStatus, ...]
    intent: str = ""      # what Git says should happen next, when the cluster does not show it yet
    blocker: dict = {}    # the Plan's first Critical/Error condition as the controller wrote it (type, items)


class ObjectStatus(msgspec.Struct, frozen=True, kw_only=True):
    """A Provider, Host, map or Hook a site's plans stand on, judged as Argo CD judges it."""
    kind: str
    name: str
    health: str
    message: str
    blocker: dict = {}    # its first Critical/Error condition (type, items: the source ids at fault)


class SiteStatus(msgspec.Struct, frozen=True, kw_only=True):
    site: str
    context: str
    plans: tuple[PlanStatus, ...]
    setup: tuple[ObjectStatus, ...] = ()
    moved: int = 0        # VMs the ledger records as moved by this site's plans (ledger.counts)
    planned: int = 0      # VMs in its plans that have not run
    left: int = 0         # VMs in its selected folders that no plan holds


class StatusReport(msgspec.Struct, frozen=True, kw_only=True):
    sites: tuple[SiteStatus, ...]

    @property
    def failed(self) -> bool:
        """Something needs a person: a blocked plan, a failed or blocked run, or objects
        of a shape mtvgen cannot judge."""
        return any({"Degraded", "Unknown"} & {p.health, p.run_health} for s in self.sites for p in s.plans) or \
            any(o.health in ("Degraded", "Unknown") for s in self.sites for o in s.setup)

    def as_dict(self) -> dict:
        return {"sites": msgspec.to_builtins(self.sites), "failed": self.failed}


def _progress(vm: dict) -> tuple[int, int]:
    """(copied, total) MB of the disk steps; other steps count 1 each (plan/migration.go Task.Progress)."""
    copied = total = 0
    for step in vm.get("pipeline") or []:
        if (step.get("annotations") or {}).get("unit") == "MB":
            p = step.get("progress") or {}
            copied += int(p.get("completed") or 0)
            total += int(p.get("total") or 0)
    return copied, total


def _step(vm: dict) -> str:
    steps = vm.get("pipeline") or []
    running = [s for s in steps if s.get("phase") == "Running"]
    done = [s for s in steps if s.get("phase") == "Completed"]
    return (running or done[-1:] or [{}])[0].get("name", "")


def _outcome(vm: dict) -> str:
    for c in ("Failed", "Canceled", "Succeeded"):
        if health.has(vm.get("conditions"), c):
            return c
    return "Queued" if vm.get("started") is None else "Running"


def _vm(vm: dict, spec: dict) -> VMStatus:
    copied, total = _progress(vm)
    warm = vm.get("warm") or {}
    cutover = next((c.get("cutover", "") for c in spec.get("vmCutover") or [] if c.get("id") == vm.get("id")),
                   spec.get("cutover", ""))
    steps = vm.get("pipeline") or []
    return VMStatus(id=vm.get("id", ""), name=vm.get("name", ""), outcome=_outcome(vm), phase=vm.get("phase", ""),
                    step=_step(vm), copied_mb=copied, total_mb=total,
                    precopies=len(warm.get("precopies") or []) or int(warm.get("successes") or 0), cutover=cutover,
                    error="; ".join((vm.get("error") or {}).get("reasons") or []),
                    copy_s=sum(_took(s) for s in steps if (s.get("annotations") or {}).get("unit") == "MB"),
                    conversion_s=sum(_took(s) for s in steps if s.get("name") == "ImageConversion"),
                    completed=str(vm.get("completed") or ""))


def _took(step: dict) -> float:
    """Seconds from a pipeline step's start to its end (plan/migration.go Timed); 0 while it runs."""
    try:
        start = datetime.fromisoformat(str(step["started"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(step["completed"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return 0.0
    return max((end - start).total_seconds(), 0.0)


def _current_run(plan: PlanSpec, migrations: list[dict]) -> dict | None:
    """The attempt the spec starts, else the newest Migration of the plan."""
    mine = [m for m in migrations if (m.get("spec") or {}).get("plan", {}).get("name") == plan.object_name]
    wanted = f"{plan.object_name}-{plan.start.attempt}" if plan.start else ""
    named = [m for m in mine if m["metadata"]["name"] == wanted]
    if named:
        return named[0]
    return max(mine, key=lambda m: m["metadata"].get("creationTimestamp", ""), default=None)


def plan_status(plan: PlanSpec, plans: dict[str, dict], migrations: list[dict]) -> PlanStatus:
    obj = plans.get(plan.object_name)
    run = _current_run(plan, migrations)
    if obj is None:
        status, message = "Missing", "not on the cluster (not synced yet, or retired)"
    else:
        status, message = health.plan(obj)
    run_health, run_message = health.migration(run) if run else ("", "")
    source = (run or {}).get("status", {}).get("vms") if run else \
        ((obj or {}).get("status") or {}).get("migration", {}).get("vms")
    vms = tuple(_vm(v, (run or {}).get("spec") or {}) for v in source or [])
    counts = {k: sum(1 for v in vms if v.outcome == k) for k in ("Succeeded", "Failed", "Canceled", "Running", "Queued")}
    counts["total"] = len(vms)
    return PlanStatus(plan=plan.name, object=plan.object_name, found=obj is not None, health=status, message=message,
                      migration=(run or {}).get("metadata", {}).get("name", ""), run_health=run_health,
                      run_message=run_message, counts=counts, vms=vms, blocker=_blocker(obj))


def _blocker(obj) -> dict:
    """The condition that blocks an object (type, message, items), as upstream writes it."""
    if not isinstance(obj, dict):
        return {}
    _, blocker, _ = health.true_conditions(obj)
    if not blocker:
        return {}
    return {"type": blocker.get("type", ""), "message": blocker.get("message", ""),
            "items": [str(i) for i in blocker.get("items") or []]}


def site_status(site: Site, context: str, plans: list[dict], migrations: list[dict], setup: list[dict] = (),
                now: datetime | None = None, lock=None) -> SiteStatus:
    by_name = {_name(p): p for p in plans}
    now = now or datetime.now(timezone.utc)
    judged = []
    for p in lifecycle.live(site):
        status = _judged(p, by_name, migrations)
        judged.append(msgspec.structs.replace(status, intent=intent(site, p, status, now)))
    counts = ledger.counts(site, lock)
    return SiteStatus(site=site.name, context=context, plans=tuple(judged),
                      setup=tuple(sorted((_object(o) for o in setup), key=lambda o: (o.kind, o.name))),
                      moved=counts.moved, planned=counts.planned, left=counts.left)


def _object(obj: dict) -> ObjectStatus:
    kind = obj.get("kind", "") if isinstance(obj, dict) else ""
    try:
        status, message = health.ASSESS[kind](obj)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        status, message = "Unknown", f"an unexpected shape ({type(exc).__name__}: {exc})"
    return ObjectStatus(kind=kind, name=_name(obj), health=status, message=message,
                        blocker=_blocker(obj) if status == "Degraded" else {})


def intent(site: Site, plan: PlanSpec, status: PlanStatus, now: datetime) -> str:
    """What Git says should happen next and why the cluster does not show it: a started
    plan whose Migration is not there waits for its wave's window, or for a sync."""
    if not lifecycle.runs(plan):          # Git asks for no Migration: nothing to wait for
        return ""
    wanted = f"{plan.object_name}-{plan.start.attempt}"
    if status.migration == wanted:
        return ""
    wave = site.waves.get(plan.wave) if plan.wave is not None else None
    opens = lifecycle.window_start(wave) if wave is not None else None
    if opens is not None and now < opens:
        return (f"Git starts attempt {plan.start.attempt}: its Migration {wanted} waits for wave {wave.number}'s "
                f"window at {opens.astimezone(timezone.utc).strftime('%Y-%m-%d %H:%M')} UTC")
    return f"Git starts attempt {plan.start.attempt}: Migration {wanted} is not on the cluster yet (not synced?)"


def _name(obj) -> str:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else ""


def _judged(plan: PlanSpec, plans: dict[str, dict], migrations: list[dict]) -> PlanStatus:
    """plan_status, or Unknown when the cluster's objects are not the shape Forklift writes
    (what Argo CD shows when its health script fails): one odd object must not stop the
    report. Unknown needs a person, like Degraded (StatusReport.failed)."""
    try:
        return plan_status(plan, plans, migrations)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return PlanStatus(plan=plan.name, object=plan.object_name, found=plan.object_name in plans, health="Unknown",
                          message=f"the Plan or its Migration has an unexpected shape ({type(exc).__name__}: {exc})",
                          migration="", run_health="", run_message="", counts={"total": 0}, vms=())
