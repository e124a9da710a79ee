"""`mtvgen verify`: the drift gate before a window. Has the source changed, for the VMs
of a wave or plan, since the lock was made?

In: the site (expanded), its lock, the plans to look at, and a fresh inventory that
holds at least those VMs. Out: diagnostics, one a change, at the plan's line:
MTV150 a VM changed (renamed, moved, resized, a NIC or disk added or gone, a new
snapshot, CBT, power, host, guest), MTV151 a VM is gone, MTV152 a NIC now sits on a
network the plan's map does not cover; MTV170 when, at the sizes read now, a wave no
longer fits its window. The lock is never touched: a person decides whether to re-lock
(and review what that changes) or to hold the window.

The comparisons are lockdiff's, so verify and `lock --check` name a change alike.
"""

from __future__ import annotations

import msgspec

from . import lockdiff, throughput
from .quantity import duration_seconds
from .diagnostics import Diagnostic
from .sitemodel import PlanSpec, Site


def scope(site: Site, wave: int | None, plans: tuple[str, ...]) -> list[PlanSpec]:
    """The Forklift plans asked for: those of wave N, those named (a plan names all its
    batches), or all live plans. Done plans are left out: what has moved cannot drift."""
    live = [p for p in site.plans if not p.done and not p.retired]
    if wave is not None:
        live = [p for p in live if p.wave == wave]
    if plans:
        live = [p for p in live if p.name in plans or p.spec_name in plans]
    return live


def drift(plans: list[PlanSpec], lock, inv) -> list[Diagnostic]:
    out = []
    for plan in plans:
        mapped = _mapped_networks(plan, lock)
        for vm_id, locked, now, lines in lockdiff.drift(lock.plans.get(plan.name, []), lock, inv):
            who = dict(plan=plan.name, vm=vm_id)
            if now is None:
                out.append(Diagnostic("MTV151", f"VM {vm_id} '{locked.name}' of plan '{plan.name}' is gone from the "
                                      "source", plan.where, **who))
                continue
            out += [Diagnostic("MTV150", f"plan '{plan.name}': {line}", plan.where, **who) for line in lines]
            for nic in now.nics:
                if nic.network and nic.network not in mapped:
                    net = inv.networks.get(nic.network)
                    name = f"{net.name!r} ({nic.network})" if net else repr(nic.network)
                    out.append(Diagnostic("MTV152", f"VM {vm_id} '{now.name}' of plan '{plan.name}': NIC "
                                          f"{nic.mac or '?'} is on network {name}, which the plan's map does not "
                                          "cover", plan.where, **who))
    return out


def _mapped_networks(plan: PlanSpec, lock) -> set[str]:
    """The source network ids the plan's network map resolved to in the lock."""
    return {i for ids in lock.maps.get(plan.network_map.name, []) for i in ids}


def still_fits(site: Site, plans: list[PlanSpec], lock, inv) -> list[Diagnostic]:
    """`site`: expanded (lifecycle.expand), as `plans` come from it. MTV170 for each wave of `plans` that fitted its window at the lock's sizes and no
    longer does at the sizes read now (a disk grew, a VM moved to a busy host)."""
    if site.throughput is None:
        return []
    waves = {p.wave for p in plans if p.wave in site.waves}
    read = {i: inv.vms[i] for p in plans for i in lock.plans.get(p.name, []) if i in inv.vms}
    now = throughput.waves(site, msgspec.structs.replace(lock, vms={**lock.vms, **read}))
    then = throughput.waves(site, lock)
    out = []
    for n in sorted(waves & set(now)):
        window = site.waves[n]
        seconds = duration_seconds(window.duration)
        if now[n][0] > seconds >= then.get(n, (0.0,))[0]:
            plan = next(p.name for p in plans if p.wave == n)
            out.append(Diagnostic("MTV170", f"wave {n} fitted its {window.duration} window at the lock's sizes "
                                  f"({throughput.hours(then[n][0])}) and no longer does at the sizes read now "
                                  f"({throughput.hours(now[n][0])})", window.where,
                                  "re-lock and run `mtvgen fit`, or hold the window", plan=plan))
    return out
