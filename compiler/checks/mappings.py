"""Network and storage mappings against the VMs they must cover (catalog: mappings)."""

from __future__ import annotations

from ..diagnostics import Diagnostic
from ..tables import PROVIDER_TYPES
from .context import Context, vm_diag


def _targets(ctx: Context, m) -> dict[str, object]:
    """Map id -> the spec entry that covers it."""
    out = {}
    for entry, ids in zip(m.entries, ctx.lock.maps.get(m.name, []), strict=True):
        for i in ids:
            out.setdefault(i, entry)
    return out


def network_mapping(ctx: Context):
    used: dict[str, set] = {}
    for plan in ctx.site.plans:
        m = plan.network_map
        covered = _targets(ctx, m)
        used_here = used.setdefault(m.name, set())
        on_pod = []
        for entry, ns, name in m.nads():
            if ns not in (plan.target_namespace, "default"):
                yield Diagnostic("MTV033", f"NAD {ns}/{name} is outside target namespace "
                                 f"{plan.target_namespace} and 'default' (plan '{plan.name}')", entry.where,
                                 plan=plan.name)
        for p in ctx.vms(plan):
            pods = 0
            for nic in p.vm.nics:
                if not nic.network:
                    continue
                entry = covered.get(nic.network)
                used_here.add(nic.network)
                if entry is None:
                    net = ctx.lock.networks.get(nic.network)
                    label = f"{net.name!r} ({nic.network})" if net else repr(nic.network)
                    yield vm_diag("MTV030", p, plan, f"network {label} is not mapped",
                                   where=plan.where, help=f"add `- source: {net.name if net else nic.network}` "
                                   "with a target to `networks:`")
                elif entry.target == "pod":
                    pods += 1
            if pods > 1:
                yield vm_diag("MTV032", p, plan, f"{pods} NICs map to the pod network")
            if pods and ctx.site.source.type == "vsphere":
                on_pod.append(p)
        if on_pod and plan.options.get("preserveStaticIPs", True):
            # plan first: a batched plan's findings then sort in batch order (by message at one line)
            why = ("set true here" if "preserveStaticIPs" in plan.options else
                   "true: Forklift's default, which mtvgen writes out")
            yield Diagnostic("MTV036", f"plan '{plan.name}': {len(on_pod)} VM(s) land on the pod network while "
                             f"preserveStaticIPs is {why}", plan.option_where("preserveStaticIPs"), plan=plan.name)
        transfer = plan.transfer_network
        if transfer and transfer[0] not in (plan.target_namespace, "default"):
            yield Diagnostic("MTV037", f"transfer network {'/'.join(transfer)} is outside {plan.target_namespace} "
                             "and 'default'", plan.option_where("transferNetwork"), plan=plan.name)
    yield from _unused(ctx, "network", used)


def storage_mapping(ctx: Context):
    used: dict[str, set] = {}
    ptype = ctx.site.source.type
    for plan in ctx.site.plans:
        m = plan.storage_map
        covered = _targets(ctx, m)
        used_here = used.setdefault(m.name, set())
        for p in ctx.vms(plan):
            if ptype == "openstack" and p.vm.image_backed:
                yield vm_diag("MTV060", p, plan, "boots from an image; only Cinder-volume VMs are supported")
            for disk in p.vm.disks:
                if not disk.datastore:
                    continue  # MTV070 reports it
                used_here.add(disk.datastore)
                if disk.datastore not in covered:
                    ds = ctx.lock.datastores.get(disk.datastore)
                    label = f"{ds.name!r} ({disk.datastore})" if ds else repr(disk.datastore)
                    yield vm_diag("MTV031", p, plan, f"disk {disk.key} is on {PROVIDER_TYPES[ptype].storage_word} "
                                   f"{label}, which is not mapped", where=plan.where,
                                   help=f"add `- source: {ds.name if ds else disk.datastore}` with a storageClass "
                                   "to `storage:`")
    yield from _unused(ctx, "storage", used)


def _unused(ctx: Context, kind: str, used: dict[str, set]):
    for m in ctx.site.maps:
        if m.kind != kind or not any(p.network_map is m or p.storage_map is m for p in ctx.site.plans):
            continue
        for entry, ids in zip(m.entries, ctx.lock.maps.get(m.name, []), strict=True):
            if ids and ids != ["glance"] and not set(ids) & used.get(m.name, set()):
                yield Diagnostic("MTV035", f"{kind} mapping {entry.label!r} is used by no selected VM", entry.where)
