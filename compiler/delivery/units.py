"""Sync units: which rendered documents are applied, health-checked and
retried together.

A plan that fails, is canceled, blocked or waits for a cutover must never hold
up the site's shared objects or another plan, so each plan is its own unit,
split in two for tools that dry-run a whole unit against the API server before
applying it (Flux): `plan` (its own maps and the Plan) and `run` (its
Migrations), because Forklift's webhooks refuse a Migration whose Plan does
not exist yet. ESXi Hosts get a unit of their own: a Plan skips a Host that is
not Ready, so no Host may gate anything.

In: documents. Out: units (a directory under out/<site>/, its documents in
apply order, the units it depends on).
"""

from __future__ import annotations


import msgspec

from ..documents import HOST_CREDENTIALS, Document
from ..tables import KINDS

SHARED, HOSTS = "shared", "hosts"


class Unit(msgspec.Struct, frozen=True, kw_only=True):
    key: str                         # shared | hosts | plan:<plan> | run:<plan>
    path: str                        # directory under out/<site>/
    docs: tuple[Document, ...]
    plan: str = ""
    depends_on: tuple[str, ...] = ()

    @property
    def kinds(self) -> list[str]:
        return sorted({d.kind for d in self.docs}, key=list(KINDS).index)


def plan_dir(plan: str) -> str:
    return f"plans/{plan}"


def _unit_of(doc: Document) -> str:
    if doc.kind == "Host" or doc.role == HOST_CREDENTIALS:
        return HOSTS
    if doc.kind == "Migration":
        return f"run:{doc.plan}"
    if doc.plan:            # the Plan and the maps only this plan uses
        return f"plan:{doc.plan}"
    return SHARED


def order(docs) -> list[Document]:
    """Apply order inside a unit: sync wave, then kind, then name (as Argo CD sorts)."""
    kinds = list(KINDS)
    return sorted(docs, key=lambda d: (KINDS[d.kind].wave, kinds.index(d.kind), d.name))


def split(docs: list[Document], plans: list[str]) -> list[Unit]:
    """Every plan gets its `plan` unit; its `run` unit appears with its first Migration
    (a 10,000-VM site is mostly plans that have not started: no empty directories)."""
    groups: dict[str, list[Document]] = {}
    for d in docs:
        groups.setdefault(_unit_of(d), []).append(d)
    # shared can be empty: external Providers and only per-plan maps; a live plan always has its Plan
    units = [Unit(key=SHARED, path=SHARED, docs=tuple(order(groups.get(SHARED, []))))]
    if HOSTS in groups:
        units.append(Unit(key=HOSTS, path=HOSTS, docs=tuple(order(groups[HOSTS])), depends_on=(SHARED,)))
    for plan in plans:
        units.append(Unit(key=f"plan:{plan}", path=f"{plan_dir(plan)}/plan", plan=plan,
                          docs=tuple(order(groups[f"plan:{plan}"])), depends_on=(SHARED,)))
        if f"run:{plan}" in groups:
            units.append(Unit(key=f"run:{plan}", path=f"{plan_dir(plan)}/run", plan=plan,
                              docs=tuple(order(groups[f"run:{plan}"])), depends_on=(f"plan:{plan}",)))
    return units
