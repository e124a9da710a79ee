"""Stage 5: pre-flight checks. Pure: spec + lock in, diagnostics out.

Each check mirrors something the Forklift controllers (or the migration itself)
would reject later; CATALOG in diagnostics.py says which. The checks live in
compiler/checks/, one module per section of the catalog; CHECKS below is the
one list of them, in order. All run every time, so one run reports every problem.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, Iterable

import msgspec

from .checks import cluster, concerns, cutover, hooks, lifecycle, mappings, migration, naming, plans, providers
from .checks.context import Context
from .diagnostics import Diagnostic
from .lock import Lock, staleness
from .plan_model import Planner
from .sitemodel import Site

Check = Callable[[Context], Iterable[Diagnostic]]

# Checks of the plans that will run. Done and retired plans have run: their VMs are
# not judged again.
CHECKS: tuple[Check, ...] = (
    plans.lock_selection, plans.moved, plans.overrides, plans.plans_and_target_names, plans.plan_size,
    mappings.network_mapping, mappings.storage_mapping,
    migration.migration_type,
    migration.plan_admission,
    hooks.hooks,
    naming.names_and_templates, naming.target_labels, naming.pvc_names,
    providers.provider_rules,
    concerns.concerns,
    cluster.target_cluster, cluster.quotas,
    cutover.start_and_cutover,
    lifecycle.cancels, lifecycle.waves, lifecycle.wave_estimates,
)
# Checks of the whole life of the site, done and retired plans included.
LIFECYCLE: tuple[Check, ...] = (lifecycle.frozen_plans, lifecycle.running_plans, lifecycle.running_edits,
                                lifecycle.batch_numbers)


def run(site: Site, lock: Lock, *, now: datetime | None = None, allow_plaintext: bool = False,
        planner: Planner | None = None) -> list[Diagnostic]:
    stale = staleness(site, lock)
    if stale:  # everything else would be judged against the wrong data
        return stale
    now = now or datetime.now(timezone.utc)
    out: list[Diagnostic] = list(site.spec_notes)
    planner = planner or Planner(lock)
    whole = Context(site, lock, now, allow_plaintext, planner)
    for fn in LIFECYCLE:
        out.extend(fn(whole))
    active = msgspec.structs.replace(site, plans=[p for p in site.plans if not p.done and not p.retired],
                                     spec_plans=site.spec_plans)
    ctx = Context(active, lock, now, allow_plaintext, planner)
    for fn in CHECKS:
        out.extend(fn(ctx))
    return out
