"""From a problem on the cluster to the site.yaml line behind it (`mtvgen status --format
github|sarif`), so a CI job can annotate the spec of a pull request with the cluster's
own words.

In: a StatusReport and, per site, its expanded Site and Lock. Out: Diagnostics located
at the plan entry (a blocked Plan), the selector that brought a VM in (a failed or
blocked VM; its `vms:` override when it has one), the map entry of a source the
controller does not find, the `source:` of a Provider, the `hosts:` entry of a Host.
Pure: no network.
"""

from __future__ import annotations

import re

from ..diagnostics import Diagnostic
from ..errors import Location
from ..inventory.model import Inventory
from ..lock import Lock
from ..spec import object_name
from ..plan_model import match_vms
from ..sitemodel import PlanSpec, Site
from .model import SiteStatus, StatusReport

# upstream writes VM items of a Plan condition as `id:<id> name:'<name>'` (lib/ref Ref.String)
_VM_ITEM = re.compile(r"id:(\S+)")


def diagnostics(report: StatusReport, sites: dict[str, tuple[Site, Lock]]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for status in report.sites:
        if status.site in sites:
            site, lock = sites[status.site]
            out += _site(status, site, lock)
    return out


def _site(status: SiteStatus, site: Site, lock: Lock) -> list[Diagnostic]:
    out = []
    plans = {p.name: p for p in site.plans}
    inv = lock.inventory()
    for ps in status.plans:
        plan = plans.get(ps.plan)
        if plan is None:
            continue
        if ps.health == "Degraded" and ps.blocker:
            vm_ids = [m.group(1) for i in ps.blocker.get("items", []) if (m := _VM_ITEM.match(i))]
            what = f"{ps.blocker['type']}: {ps.blocker.get('message', '')}".rstrip(": ")
            if vm_ids:
                for where, names in _by_line(plan, vm_ids, inv).items():
                    out.append(Diagnostic("MTV160", f"plan '{plan.name}' is blocked on the cluster ({what}) for "
                                          f"{', '.join(names)}", where, _fix(ps.blocker["type"]), plan=plan.name))
            else:
                out.append(Diagnostic("MTV160", f"plan '{plan.name}' is blocked on the cluster: {what}", plan.where,
                                      _fix(ps.blocker["type"]), plan=plan.name))
        failed = [vm for vm in ps.vms if vm.outcome == "Failed"]
        for vm in failed:
            where = _vm_line(plan, vm.id, inv)
            out.append(Diagnostic("MTV161", f"VM {vm.name!r} ({vm.id}) failed in {ps.migration or 'its run'}: "
                                  f"{vm.error or vm.phase}", where,
                                  f"fix the cause, then `mtvgen retry {site.dir} {plan.name}`", plan=plan.name,
                                  vm=vm.name))
    for obj in status.setup:
        if obj.health != "Degraded":
            continue
        what = f"{obj.blocker.get('type', '')}: {obj.blocker.get('message', '')}".strip(": ") or obj.message
        for where in _object_lines(obj, site, lock):
            out.append(Diagnostic("MTV162", f"{obj.kind} {obj.name} is blocked on the cluster: {what}", where,
                                  _fix(obj.blocker.get("type", ""))))
    return out


def _fix(condition: str) -> str:
    return {"VMHasSnapshots": "remove the snapshots on the source, or exclude the VM",
            "VMNetworksNotMapped": "map the VM's networks in `networks:`, then re-lock",
            "VMStorageNotMapped": "map the VM's storage in `storage:`, then re-lock",
            "SourceNetworkNotValid": "correct the source network, then re-lock",
            "SourceStorageNotValid": "correct the source storage, then re-lock",
            "DestinationStorageNotValid": "use a storage class the cluster has",
            "ConnectionAuthFailed": "correct the credentials in the Secret's store",
            }.get(condition, "see the condition on the cluster (`mtvgen status`)")


def _vm_line(plan: PlanSpec, vm_id: str, inv: Inventory) -> Location:
    """The override that names the VM, else the first selector that chooses it, else the plan."""
    vm = inv.vms.get(vm_id)
    if vm is None:
        return plan.where
    for o in plan.overrides:
        if match_vms(o.match, [vm]):
            return o.where
    from ..resolve import preview
    for sel in plan.select:
        chosen, _ = preview(Inventory(inv.provider, {vm.id: vm}, inv.networks, inv.datastores, inv.hosts), [sel])
        if chosen:
            return sel.where
    return plan.where


def _by_line(plan: PlanSpec, vm_ids: list[str], inv: Inventory) -> dict[Location, list[str]]:
    out: dict[Location, list[str]] = {}
    for vm_id in vm_ids:
        vm = inv.vms.get(vm_id)
        out.setdefault(_vm_line(plan, vm_id, inv), []).append(f"'{vm.name}'" if vm else vm_id)
    return out


def _object_lines(obj, site: Site, lock: Lock) -> list[Location]:
    if obj.kind == "Provider":
        return [site.source.where]
    if obj.kind == "Host":     # named as render names it
        return [h.where for h in site.source.hosts if object_name(site.name, h.name) == obj.name] or [site.source.where]
    if obj.kind in ("NetworkMap", "StorageMap"):
        spec_map = next((m for m in site.maps if m.name == obj.name), None)
        if spec_map is None:
            return [site.source.where]
        at_fault = set(obj.blocker.get("items", []))
        ids = lock.maps.get(obj.name, [])
        hits = [e.where for e, resolved in zip(spec_map.entries, ids) if at_fault & set(resolved)]
        return hits or [spec_map.entries[0].where if spec_map.entries else site.source.where]
    if obj.kind == "Hook":
        return [h.where for h in site.hooks.values() if h.object_name == obj.name] or [site.source.where]
    return [site.source.where]
