"""A plan's VMs as they will be migrated: lock facts + per-VM overrides merged.

Shared by the checks and the renderer so both see the same names and options;
a Planner computes each plan once for both.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import msgspec

from . import names
from .diagnostics import Diagnostic
from .errors import Location
from .inventory.model import VM
from .sitemodel import Override, PlanSpec


class PlannedVM(msgspec.Struct, frozen=True):
    """A VM of a plan, as it will be migrated (a Struct: one per VM, 0.1 µs to build)."""
    vm: VM
    target_name: str
    explicit_target: bool      # set by the user (else computed from the source name)
    options: Mapping           # VM options: site defaults < plan < override (read-only)
    where: Location            # the override that touched it, else the plan
    override: Override | None


def match_vms(match: str, vms: list[VM]) -> list[VM]:
    """An override's `match`: an id, an inventory path, or a name."""
    for key in ("id", "path", "name"):
        hits = [v for v in vms if getattr(v, key) == match]
        if hits:
            return hits
    return []


def planned(plan: PlanSpec, lock) -> tuple[list[PlannedVM], list[Diagnostic]]:
    vms = [lock.vms[i] for i in lock.plans.get(plan.name, []) if i in lock.vms]
    diags: list[Diagnostic] = []
    overrides: dict[str, Override] = {}
    for o in plan.overrides:
        hits = match_vms(o.match, vms)
        if len(hits) != 1:
            what = "no VM of the plan" if not hits else f"{len(hits)} VMs ({', '.join(v.path for v in hits)})"
            diags.append(Diagnostic("MTV016", f"override match {o.match!r} matches {what}", o.where,
                                    "use the id or path of one VM the plan selects", plan=plan.name))
            continue
        if hits[0].id in overrides:
            diags.append(Diagnostic("MTV016", f"VM {o.match!r} has two overrides (also line "
                                    f"{overrides[hits[0].id].where.line})", o.where, "merge them", plan=plan.name))
            continue
        overrides[hits[0].id] = o
    out = []
    # read-only, so the VMs without an override can share one (50k VMs: 50k dicts fewer)
    plan_options = MappingProxyType(dict(plan.vm_options))
    for vm in vms:
        o = overrides.get(vm.id)
        opts = plan_options if o is None else MappingProxyType({**plan.vm_options, **o.options})
        explicit = o is not None and o.target_name is not None
        target = o.target_name if explicit else names.target_vm_name(vm.name, vm.id)
        out.append(PlannedVM(vm, target, explicit, opts, o.where if o else plan.where, o))
    return out, diags


class Planner:
    """Each plan's VMs (and its override problems), computed once per build: the checks
    and the renderer ask for the same plans."""

    def __init__(self, lock):
        self.lock = lock
        self._done: dict[str, tuple[list[PlannedVM], list[Diagnostic]]] = {}

    def planned(self, plan: PlanSpec) -> tuple[list[PlannedVM], list[Diagnostic]]:
        if plan.name not in self._done:
            self._done[plan.name] = planned(plan, self.lock)
        return self._done[plan.name]
