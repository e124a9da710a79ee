"""What every check sees: the site, its lock, the clock, and each plan's VMs
with overrides applied (computed once). In: Site + Lock. Out: nothing but helpers."""

from __future__ import annotations

from datetime import datetime, timezone

import msgspec

from ..diagnostics import Diagnostic
from ..lock import Lock
from ..plan_model import PlannedVM, Planner
from ..sitemodel import PlanSpec, Site


class Context(msgspec.Struct):
    site: Site                 # its `plans` are the plans to judge (done and retired ones left out)
    lock: Lock
    now: datetime = msgspec.field(default_factory=lambda: datetime.now(timezone.utc))
    allow_plaintext: bool = False
    planner: Planner | None = None

    def __post_init__(self):
        self.planner = self.planner or Planner(self.lock)

    def planned(self, plan: PlanSpec) -> tuple[list[PlannedVM], list[Diagnostic]]:
        """The plan's VMs with overrides applied (and the override problems), computed once."""
        return self.planner.planned(plan)

    def vms(self, plan: PlanSpec) -> list[PlannedVM]:
        return self.planned(plan)[0]


def vm_diag(code, p: PlannedVM, plan: PlanSpec, text: str, **kw) -> Diagnostic:
    return Diagnostic(code, f"VM {p.vm.name!r} ({p.vm.id}): {text}", kw.pop("where", p.where), plan=plan.name,
                      vm=p.vm.name, **kw)
