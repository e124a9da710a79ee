"""pyVmomi property sets -> inventory records, as Forklift's vSphere collector models
them (pkg/controller/provider/container/vsphere and web/vsphere, at d42511b): names
decoded, paths from the datacenter down, ghost VMs recognised.

In: {moid: (pyVmomi type, {property path: value})} from the PropertyCollector
(vsphere.py reads them). Out: VM, Network, Datastore and Host records in an Inventory.
No network here.
"""

from __future__ import annotations

import re
import urllib.parse

import msgspec
from pyVmomi import vim

from .model import VM, Datastore, Disk, Host, Inventory, Network, Nic, ProviderInfo
from .shapes import datacenter_of, folder_of

NOTABLE_DEVICES = {"VirtualPCIPassthrough", "VirtualUSBController", "VirtualUSBXHCIController",
                   "VirtualSriovEthernetCard", "VirtualTPM"}


def ref(value) -> str:
    return value._moId if value is not None else ""


def is_ghost(vm: VM) -> bool:
    """A VM Forklift's inventory does not list: no UUID, no instance UUID and no host
    (web/vsphere/vm.go List, "Skipping ghost VM", at d42511b)."""
    return not (vm.uuid or vm.instance_uuid or vm.host)


_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def unescaped(name: str) -> str:
    """An entity name as Forklift's inventory shows it. vCenter escapes '%', '/' and '\\' in
    names (%25, %2f, %5c: ManagedEntity.name); Forklift decodes them with Go's
    url.PathUnescape (container/vsphere/model.go, Decoded, at d42511b), which leaves a
    name with a malformed escape as it is. A lock from vCenter and one from Forklift's
    inventory then name a VM alike, and `name: web/01` selects it."""
    if "%" not in name or _BAD_ESCAPE.search(name):
        return name
    return urllib.parse.unquote(name, errors="replace")


def paths(objects: dict) -> dict[str, str]:
    """Inventory paths in Forklift's form (/DC/vm/folder/name): the names from the
    datacenter down; the root folder ("Datacenters") is not part of it. Like Forklift's
    walk (web/vsphere/base.go PathBuilder, at d42511b), a path stops at a datastore
    cluster: a datastore in one is /ds1, as Forklift's inventory shows it."""
    cache: dict[str, str] = {}

    def path(moid: str, depth: int = 0) -> str:
        if moid in cache:
            return cache[moid]
        entry = objects.get(moid)
        if entry is None or depth > 64:
            return ""
        props = entry[1]
        parent = ref(props.get("parent"))
        walk_on = parent in objects and not issubclass(objects[parent][0], vim.StoragePod)
        prefix = path(parent, depth + 1) if walk_on else ""
        cache[moid] = f"{prefix}/{props.get('name', moid)}"
        return cache[moid]

    return {moid: path(moid) for moid in objects}


def build(objects: dict, paths: dict, fields: dict, info: ProviderInfo) -> Inventory:
    inv = Inventory(info)
    for moid, (kind, p) in objects.items():
        path = paths[moid]
        if issubclass(kind, vim.HostSystem):
            parent = objects.get(ref(p.get("parent")))
            # Forklift models a standalone host's ComputeResource as a cluster (collector.go,
            # variant ComputeResource), so its inventory gives such a host that cluster too
            cluster = parent[1].get("name", "") if parent and issubclass(parent[0], vim.ComputeResource) else ""
            ips = sorted({v.spec.ip.ipAddress for v in p.get("config.network.vnic") or ()
                          if v.spec and v.spec.ip and v.spec.ip.ipAddress})
            inv.hosts[moid] = Host(moid, p.get("name", ""), path, datacenter_of(path), cluster, tuple(ips),
                                   bool(p.get("runtime.inMaintenanceMode")))
        elif issubclass(kind, vim.dvs.DistributedVirtualPortgroup):
            inv.networks[moid] = Network(moid, p.get("name", ""), path, datacenter_of(path), "DvPortGroup", key=p.get("key", ""))
        elif issubclass(kind, vim.OpaqueNetwork):
            inv.networks[moid] = Network(moid, p.get("name", ""), path, datacenter_of(path), "OpaqueNetwork",
                                         key=p.get("summary.opaqueNetworkId", ""))
        elif issubclass(kind, vim.Network):
            inv.networks[moid] = Network(moid, p.get("name", ""), path, datacenter_of(path), "Standard")
        elif issubclass(kind, vim.DistributedVirtualSwitch):
            inv.networks[moid] = Network(moid, p.get("name", ""), path, datacenter_of(path), "DvSwitch")
        elif issubclass(kind, vim.Datastore):
            inv.datastores[moid] = Datastore(moid, p.get("name", ""), path, datacenter_of(path))
    for moid, (kind, p) in objects.items():
        if not issubclass(kind, vim.VirtualMachine):
            continue
        path, parent = paths[moid], ref(p.get("parent"))
        # the parent's path, not the text before the last '/': a decoded name may hold one
        folder = paths[parent] if parent in paths else folder_of(path)
        inv.vms[moid] = VM(id=moid, name=p.get("name", ""), path=path, folder=folder,
                           datacenter=datacenter_of(path), is_template=bool(p.get("config.template")),
                           **vm_facts(p, inv, fields))
    return inv


def vm_facts(p: dict, inv: Inventory, fields: dict) -> dict:
    """The VM fields that either pass may read (absent properties give empty values)."""
    host = inv.hosts.get(ref(p.get("runtime.host")))
    attrs = tuple(sorted((fields.get(v.key, str(v.key)), str(getattr(v, "value", "")))
                         for v in p.get("customValue") or ()))
    return {"cluster": host.cluster if host else "", "host": host.id if host else "",
            "power_state": str(p.get("runtime.powerState") or ""), "firmware": p.get("config.firmware") or "",
            "guest_id": p.get("config.guestId") or "", "attributes": attrs,
            "cpu_count": int(p.get("config.hardware.numCPU") or 0), "memory_mib": int(p.get("config.hardware.memoryMB") or 0)}


def _kind(dev) -> str:
    return type(dev).__name__.rsplit(".", 1)[-1]


def with_details(vm: VM, p: dict, by_key: dict) -> VM:
    devices = list(p.get("config.hardware.device") or ())
    controllers = {d.key: _kind(d) for d in devices if isinstance(d, vim.vm.device.VirtualController)}
    nics, disks = [], []
    cbt = bool(p.get("config.changeTrackingEnabled"))
    for d in devices:
        if isinstance(d, vim.vm.device.VirtualEthernetCard):
            b = d.backing
            if isinstance(b, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo):
                net = by_key.get(b.port.portgroupKey, b.port.portgroupKey)
            elif isinstance(b, vim.vm.device.VirtualEthernetCard.OpaqueNetworkBackingInfo):
                net = by_key.get(b.opaqueNetworkId, b.opaqueNetworkId)
            else:
                net = ref(getattr(b, "network", None))
            nics.append(Nic(net, d.macAddress or ""))
        elif isinstance(d, vim.vm.device.VirtualDisk):
            b = d.backing
            capacity = d.capacityInBytes or (d.capacityInKB or 0) * 1024
            ctl = controllers.get(d.controllerKey, "")
            bus = "scsi" if "SCSI" in ctl or "Logic" in ctl or "ParaVirtual" in ctl else \
                "sata" if "AHCI" in ctl or "SATA" in ctl else "nvme" if "NVME" in ctl else "ide" if "IDE" in ctl else ""
            disks.append(Disk(str(d.key), ref(getattr(b, "datastore", None)), int(capacity),
                              getattr(b, "fileName", "") or "",
                              shared=getattr(b, "sharing", "") == "sharingMultiWriter",
                              rdm=isinstance(b, vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo),
                              mode=getattr(b, "diskMode", "") or "", bus=bus, change_tracking=cbt))
    ips = {p["guest.ipAddress"]} if p.get("guest.ipAddress") else set()
    for n in p.get("guest.net") or ():
        ips.update(a for a in n.ipAddress or () if ":" not in a)
    kinds = {_kind(d) for d in devices} & NOTABLE_DEVICES
    return msgspec.structs.replace(vm, **{"nics": tuple(nics), "disks": tuple(disks), "change_tracking": cbt,
                 "has_snapshot": p.get("snapshot") is not None, "uuid": p.get("config.uuid") or "",
                 "instance_uuid": p.get("config.instanceUuid") or "",
                 "cpu_hot_add": bool(p.get("config.cpuHotAddEnabled")),
                 "cpu_hot_remove": bool(p.get("config.cpuHotRemoveEnabled")),
                 "memory_hot_add": bool(p.get("config.memoryHotAddEnabled")),
                 "tools_status": str(p.get("guest.toolsStatus") or ""), "guest_name": p.get("guest.guestFullName") or "",
                 "ip_addresses": tuple(sorted(ips)), "devices": tuple(sorted(kinds)), "tpm": "VirtualTPM" in kinds})
