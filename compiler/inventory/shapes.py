"""Forklift inventory JSON (the shapes of /providers/<type>/<uid>/<collection>)
-> the common Inventory model. One reader per provider type.

The same readers serve an inventory snapshot file and the live Forklift
inventory service, so both give identical locks.
"""

from __future__ import annotations

from typing import Callable

from .. import quantity
from .model import VM, Datastore, Disk, Host, Inventory, Network, Nic, ProviderInfo


def _ref_id(value) -> str:
    """Forklift refs are {kind, id}; some collections carry a bare id string."""
    if isinstance(value, dict):
        return str(value.get("id", ""))
    return str(value or "")


_DATACENTER_FOLDERS = {"vm", "host", "network", "datastore"}


def datacenter_of(path: str) -> str:
    """The datacenter in a vSphere inventory path (Forklift's form): the segment before
    the datacenter's own folder. /DC1/vm/x -> DC1; /Region/DC1/vm/x -> DC1 (datacenters
    in folders). "" where the path holds none: Forklift's path stops at a parent it does
    not model, so a datastore in a datastore cluster is /ds1 and a VM in a vApp /vm1."""
    parts = [p for p in (path or "").split("/") if p]
    for i in range(1, len(parts)):
        if parts[i] in _DATACENTER_FOLDERS:
            return parts[i - 1]
    return ""


def folder_of(path: str) -> str:
    """The containing folder: /DC1/vm/f/x -> /DC1/vm/f."""
    return path.rsplit("/", 1)[0] if "/" in (path or "") else ""


def _power(state: str) -> str:
    s = (state or "").lower()
    if s in ("poweredon", "up", "active", "running", "on"):
        return "poweredOn"
    if s in ("poweredoff", "down", "shutoff", "stopped", "off"):
        return "poweredOff"
    if s in ("suspended", "paused"):
        return "suspended"
    return state or ""


def _quantity(text) -> int:
    """A Kubernetes quantity ("30Gi") in bytes; 0 when absent or unreadable."""
    return quantity.as_int(text)


def _concerns(raw) -> tuple:
    return tuple(sorted({(c.get("category", ""), c.get("label", "")) for c in raw or []}))


def _vsphere(c: dict, info: ProviderInfo) -> Inventory:
    inv = Inventory(info)
    clusters = {x["id"]: x.get("name", "") for x in c.get("clusters", [])}
    for h in c.get("hosts", []):
        ips = sorted({a.get("ipAddress", "") for a in h.get("networkAdapters") or [] if a.get("ipAddress")})
        if h.get("managementServerIp") and not ips:
            ips = [h["managementServerIp"]]
        inv.hosts[str(h["id"])] = Host(str(h["id"]), str(h["name"]), h.get("path", ""), datacenter_of(h.get("path", "")),
                                  clusters.get(_ref_id(h.get("cluster")), ""), tuple(ips),
                                  bool(h.get("inMaintenance")))
    for n in c.get("networks", []):
        inv.networks[str(n["id"])] = Network(str(n["id"]), str(n["name"]), n.get("path", ""), datacenter_of(n.get("path", "")),
                                        n.get("variant", "Standard"), key=n.get("key", ""))
    for d in c.get("datastores", []):
        inv.datastores[str(d["id"])] = Datastore(str(d["id"]), str(d["name"]), d.get("path", ""), datacenter_of(d.get("path", "")))
    by_key = {n.key: n.id for n in inv.networks.values() if n.key}
    defs = {}
    for vm in c.get("vms", []):
        for cd in vm.get("customDef") or []:
            defs[str(cd.get("key"))] = cd.get("name", "")
    for vm in c.get("vms", []):
        path = vm.get("path", "")
        host = inv.hosts.get(_ref_id(vm.get("host")))
        nics = tuple(Nic(by_key.get(_ref_id(n.get("network")), _ref_id(n.get("network"))), n.get("mac", ""))
                     for n in vm.get("nics") or [])
        if not nics:  # older inventories: only networks[]
            nics = tuple(Nic(_ref_id(n)) for n in vm.get("networks") or [])
        disks = tuple(Disk(str(d.get("key", "")), _ref_id(d.get("datastore")), int(d.get("capacity") or 0),
                           d.get("file", ""), bool(d.get("shared")), bool(d.get("rdm")), d.get("mode", ""),
                           d.get("bus", ""), bool(d.get("changeTrackingEnabled")))
                      for d in vm.get("disks") or [])
        ips = {vm["ipAddress"]} if vm.get("ipAddress") else set()
        ips |= {g.get("ip") for g in vm.get("guestNetworks") or [] if g.get("ip")}
        attrs = tuple(sorted((defs.get(str(v.get("key")), str(v.get("key"))), str(v.get("value", "")))
                             for v in vm.get("customValues") or []))
        inv.vms[str(vm["id"])] = VM(
            id=str(vm["id"]), name=str(vm["name"]), path=path, folder=folder_of(path), datacenter=datacenter_of(path),
            cluster=host.cluster if host else "", host=_ref_id(vm.get("host")),
            power_state=_power(vm.get("powerState", "")), firmware=vm.get("firmware", ""),
            guest_id=vm.get("guestId", ""), guest_name=vm.get("guestName", ""), uuid=vm.get("uuid", ""),
            instance_uuid=vm.get("instanceUuid", ""),
            change_tracking=bool(vm.get("changeTrackingEnabled")),
            has_snapshot=bool(_ref_id(vm.get("snapshot"))), is_template=bool(vm.get("isTemplate")),
            tools_status=vm.get("toolsStatus", ""), ip_addresses=tuple(sorted(ips)), nics=nics, disks=disks,
            devices=tuple(sorted({d.get("kind", "") for d in vm.get("devices") or []} - {""})),
            cpu_hot_add=bool(vm.get("cpuHotAddEnabled")), cpu_hot_remove=bool(vm.get("cpuHotRemoveEnabled")),
            memory_hot_add=bool(vm.get("memoryHotAddEnabled")), tpm=bool(vm.get("tpmEnabled")),
            cpu_count=int(vm.get("cpuCount") or 0), memory_mib=int(vm.get("memoryMB") or 0),
            # model/vsphere Tag: Forklift keeps the category's id, not its name
            tags=tuple(sorted({(str(t.get("categoryID", "")), str(t.get("name", ""))) for t in vm.get("tags") or []})),
            attributes=attrs, concerns=_concerns(vm.get("concerns")))
    return inv


def _ovirt_firmware(bios: str) -> str:
    """oVirt BIOS types (q35_ovmf, q35_secure_boot, i440fx_sea_bios, q35_sea_bios) as bios/efi."""
    b = (bios or "").lower()
    return "efi" if "ovmf" in b or "secure_boot" in b else "bios" if "sea_bios" in b else ""


def _ovirt(c: dict, info: ProviderInfo) -> Inventory:
    """kubev2v/forklift d42511b pkg/controller/provider/web/ovirt (paths: base.go PathBuilder,
    `<datacenter>/<name>` for networks and storage domains, `<cluster>/<name>` for hosts and VMs)."""
    inv = Inventory(info)
    dcs = {x["id"]: x.get("name", "") for x in c.get("datacenters", [])}
    clusters = {x["id"]: x for x in c.get("clusters", [])}
    cluster_dc = {cid: dcs.get(_ref_id(x.get("dataCenter")), "") for cid, x in clusters.items()}
    for n in c.get("networks", []):
        inv.networks[str(n["id"])] = Network(str(n["id"]), str(n["name"]), n.get("path", ""),
                                             dcs.get(_ref_id(n.get("dataCenter")), ""))
    for sd in c.get("storagedomains", []):
        inv.datastores[str(sd["id"])] = Datastore(str(sd["id"]), str(sd["name"]), sd.get("path", ""),
                                                  dcs.get(_ref_id(sd.get("dataCenter")), ""))
    for h in c.get("hosts", []):
        cid = _ref_id(h.get("cluster"))
        inv.hosts[str(h["id"])] = Host(str(h["id"]), str(h["name"]), h.get("path", ""), cluster_dc.get(cid, ""),
                                       clusters.get(cid, {}).get("name", ""))
    profiles = {p["id"]: _ref_id(p.get("network")) for p in c.get("nicprofiles", [])}
    disks = {str(d["id"]): d for d in c.get("disks", [])}
    for vm in c.get("vms", []):
        vdisks = []
        for att in vm.get("diskAttachments") or []:
            d = disks.get(_ref_id(att.get("disk")), {})
            if d.get("storageType") == "lun":
                # a direct LUN has no storage domain; its size is per logical unit (model/ovirt Lun:
                # the untagged LogicalUnits field keeps its Go name)
                units = ((d.get("lunStorage") or {}).get("LogicalUnits") or {}).get("logicalUnit") or []
                sizes = [int(u.get("size") or 0) for u in units]
                capacity = sum(sizes) if sizes and min(sizes) > 0 else 0
                vdisks.append(Disk(_ref_id(att.get("disk")), "", capacity, shared=bool(d.get("shared")), lun=True))
            else:
                vdisks.append(Disk(_ref_id(att.get("disk")), _ref_id(d.get("storageDomain")),
                                   int(d.get("provisionedSize") or 0), shared=bool(d.get("shared"))))
        cid = _ref_id(vm.get("cluster"))
        path = vm.get("path", "")
        inv.vms[str(vm["id"])] = VM(
            id=str(vm["id"]), name=str(vm["name"]), path=path, folder=folder_of(path), datacenter=cluster_dc.get(cid, ""),
            cluster=clusters.get(cid, {}).get("name", ""), host=_ref_id(vm.get("host")),
            power_state=_power(vm.get("status", "")),
            firmware=_ovirt_firmware(vm.get("bios") or clusters.get(cid, {}).get("biosType", "")),
            guest_name=vm.get("guestName", ""),
            cpu_count=max(int(vm.get("cpuSockets") or 1), 1) * max(int(vm.get("cpuCores") or 1), 1)
            * max(int(vm.get("cpuThreads") or 1), 1) if vm.get("cpuSockets") else 0,
            memory_mib=int(vm.get("memory") or 0) >> 20,
            nics=tuple(Nic(profiles.get(_ref_id(n.get("profile")), ""), n.get("mac", "")) for n in vm.get("nics") or []),
            disks=tuple(vdisks), concerns=_concerns(vm.get("concerns")))
    return inv


def _openstack(c: dict, info: ProviderInfo) -> Inventory:
    """kubev2v/forklift d42511b pkg/controller/provider/web/openstack: Forklift makes one interface
    per network key of `addresses` (plan/adapter/openstack builder), whatever addresses it holds."""
    inv = Inventory(info)
    for n in c.get("networks", []):
        inv.networks[str(n["id"])] = Network(str(n["id"]), str(n["name"]), n.get("path", ""))
    for t in c.get("volumetypes", []):
        inv.datastores[str(t["id"])] = Datastore(str(t["id"]), str(t["name"]), t.get("path", ""))
    net_by_name = {n.name: n.id for n in inv.networks.values()}
    type_by_name = {d.name: d.id for d in inv.datastores.values()}
    volumes = {v["id"]: v for v in c.get("volumes", [])}
    projects = {p["id"]: p.get("name", "") for p in c.get("projects", [])}
    flavors = {str(f.get("id")): f for f in c.get("flavors", [])}       # web/openstack/flavor.go: vcpus, ram (MiB)
    for vm in c.get("vms", []):
        nics = []
        for netname, addrs in sorted((vm.get("addresses") or {}).items()):
            mac = next((a.get("OS-EXT-IPS-MAC:mac_addr", "") for a in addrs or [] if isinstance(a, dict)), "")
            nics.append(Nic(net_by_name.get(netname, ""), mac))
        disks = []
        for att in vm.get("attachedVolumes") or []:
            vol = volumes.get(att.get("ID") or att.get("id"), {})
            vtype = vol.get("volumeType", "")
            disks.append(Disk(vol.get("id", att.get("ID", "")), type_by_name.get(vtype, vtype),
                              int(vol.get("size") or 0) << 30))
        project = projects.get(vm.get("tenantID", ""), vm.get("tenantID", ""))
        inv.vms[str(vm["id"])] = VM(
            id=str(vm["id"]), name=str(vm["name"]), path=vm.get("path") or f"/{project}/{vm['name']}",
            folder=f"/{project}", datacenter=project, power_state=_power(vm.get("status", "")),
            nics=tuple(nics), disks=tuple(disks), image_backed=bool(_ref_id(vm.get("imageID") or vm.get("image"))),
            cpu_count=int(flavors.get(str(vm.get("flavorID")), {}).get("vcpus") or 0),
            memory_mib=int(flavors.get(str(vm.get("flavorID")), {}).get("ram") or 0),
            tags=tuple(sorted({("", str(t)) for t in vm.get("tags") or []})),
            concerns=_concerns(vm.get("concerns")))
    return inv


def ova_capacity(capacity, units: str) -> int:
    """Bytes of an OVF disk: `byte * 2^30`, `byte * 1024`, or `megabytes`
    (plan/adapter/ovfbase/builder.go getResourceCapacity); 0 when unreadable."""
    capacity = int(capacity or 0)
    if (units or "").strip().lower() == "megabytes":
        return capacity << 20
    items = [i.strip() for i in (units or "").split("*")]
    if items[0] not in ("", "byte"):
        return 0
    for item in items[1:]:
        base, _, power = item.partition("^")
        try:
            capacity *= int(base) ** int(power) if power else int(base)
        except ValueError:
            return 0
    return capacity


def _ova(c: dict, info: ProviderInfo) -> Inventory:
    """kubev2v/forklift d42511b pkg/controller/provider/web/ovfbase (VM) over model/ovf: a VM's
    disks, networks and NICs are model structs without JSON tags, so their keys are Go field
    names (ID, Name, Capacity, CapacityAllocationUnits, Network, MAC). There is one storage per
    disk, with the disk's ID (container/ovfbase StorageAdapter), and the storage map must cover
    every disk (plan/adapter/ovfbase validator StorageMapped)."""
    inv = Inventory(info)
    for n in c.get("networks", []):
        inv.networks[str(n["id"])] = Network(str(n["id"]), str(n["name"]), n.get("path", ""))
    for s in c.get("storages", []):
        inv.datastores[str(s["id"])] = Datastore(str(s["id"]), str(s["name"]), s.get("path", ""))
    net_by_name = {n.name: n.id for n in inv.networks.values()}
    for vm in c.get("vms", []):
        own = {n.get("Name"): n.get("ID") for n in vm.get("networks") or []}
        nics = tuple(Nic(own.get(n.get("Network")) or net_by_name.get(n.get("Network", ""), ""), n.get("MAC", ""))
                     for n in vm.get("nics") or [])
        disks = tuple(Disk(str(d.get("ID", "")), str(d.get("ID", "")),
                           ova_capacity(d.get("Capacity"), d.get("CapacityAllocationUnits", "")), d.get("FilePath", ""))
                      for d in vm.get("disks") or [])
        path = vm.get("path") or vm.get("ovfPath", "")
        inv.vms[str(vm["id"])] = VM(id=str(vm["id"]), name=str(vm["name"]), path=path, folder=folder_of(path),
                                    power_state="poweredOff", firmware=vm.get("firmware", ""), nics=nics, disks=disks,
                                    cpu_count=int(vm.get("cpuCount") or 0), memory_mib=int(vm.get("memoryMB") or 0),
                                    concerns=_concerns(vm.get("concerns")))
    return inv


def _openshift(c: dict, info: ProviderInfo) -> Inventory:
    """kubev2v/forklift d42511b pkg/controller/provider/web/ocp: every resource carries uid, name,
    namespace and the raw `object`; a storage class's id is its UID. A VM's disk class comes from
    its DataVolume template, else from the PVC it names (VMs on existing PVCs, and a template
    that names no class: the PVC the DataVolume made has the default class)."""
    inv = Inventory(info)
    for n in c.get("networkattachmentdefinitions", []):
        ns = n.get("namespace", "")
        inv.networks[str(n["uid"])] = Network(str(n["uid"]), str(n["name"]), f"{ns}/{n['name']}", namespace=ns)
    for sc in c.get("storageclasses", []):
        inv.datastores[str(sc["uid"])] = Datastore(str(sc["uid"]), str(sc["name"]), str(sc["name"]))
    class_id = {d.name: d.id for d in inv.datastores.values()}
    pvcs = {(p.get("namespace", ""), p.get("name", "")): (p.get("object") or {}).get("spec") or {}
            for p in c.get("persistentvolumeclaims", [])}
    nad_by_path = {n.path: n.id for n in inv.networks.values()}
    for vm in c.get("vms", []):
        obj = vm.get("object") or {}
        ns = vm.get("namespace", "")
        tmpl = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
        nics = []
        for net in tmpl.get("networks") or []:
            if "pod" in net:
                nics.append(Nic("pod"))
            elif "multus" in net:
                name = net["multus"].get("networkName", "")
                full = name if "/" in name else f"{ns}/{name}"
                nics.append(Nic(nad_by_path.get(full, full)))
        disks = []
        templates = {(t.get("metadata") or {}).get("name"): t.get("spec") or {}
                     for t in (obj.get("spec") or {}).get("dataVolumeTemplates") or []}
        for vol in tmpl.get("volumes") or []:
            claim = (vol.get("dataVolume") or {}).get("name") or (vol.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            spec = templates.get(claim, {})
            pvc = spec.get("storage") or spec.get("pvc") or pvcs.get((ns, claim), {})
            made = pvcs.get((ns, claim), {})      # the PVC the DataVolume made, named as it
            size = ((pvc.get("resources") or {}).get("requests") or {}).get("storage") or \
                ((made.get("resources") or {}).get("requests") or {}).get("storage")
            # a template without storageClassName got the cluster's default class: Forklift
            # reads it from that PVC, so does mtvgen (it was '' and the build failed, MTV070)
            cls = pvc.get("storageClassName", "") or made.get("storageClassName", "")
            disks.append(Disk(claim, class_id.get(cls, cls), _quantity(size)))
        domain = tmpl.get("domain") or {}
        cpu = domain.get("cpu") or {}
        memory = (domain.get("memory") or {}).get("guest") or \
            ((domain.get("resources") or {}).get("requests") or {}).get("memory")
        running = (obj.get("spec") or {}).get("running")
        state = (obj.get("status") or {}).get("printableStatus", "")
        inv.vms[str(vm["uid"])] = VM(
            id=str(vm["uid"]), name=str(vm["name"]), path=f"{ns}/{vm['name']}", folder=ns, namespace=ns,
            power_state=_power(state) if state else ("poweredOn" if running else "poweredOff"),
            nics=tuple(nics), disks=tuple(disks), concerns=_concerns(vm.get("concerns")),
            cpu_count=int(cpu.get("sockets") or 1) * int(cpu.get("cores") or 1) * int(cpu.get("threads") or 1)
            if cpu else 0, memory_mib=_quantity(memory) >> 20)
    # the pod network is a mappable source on OpenShift
    inv.networks.setdefault("pod", Network("pod", "pod", "pod", variant="Pod"))
    return inv


def _tags_of(obj: dict) -> tuple:
    """AWS tags ([{Key, Value}]) as (key, value) pairs: the category is the key."""
    return tuple(sorted({(str(t.get("Key", "")), str(t.get("Value", ""))) for t in obj.get("Tags") or []}))


def _ec2(c: dict, info: ProviderInfo) -> Inventory:
    """kubev2v/forklift d42511b pkg/provider/ec2/inventory/web: a VM is {id, name, powerState,
    object: InstanceDetails} (the AWS SDK's Instance in its Go field names, with simplified
    BlockDeviceMappings and NetworkInterfaces); networks are subnets (object: Subnet), storages
    are EBS volume types. Forklift maps a NIC by its subnet id and a disk by its volume's type
    (controller/builder/mapping.go), so those are the ids mtvgen maps."""
    inv = Inventory(info)
    for n in c.get("networks", []):
        obj = n.get("object") or {}
        inv.networks[str(n["id"])] = Network(str(n["id"]), str(n["name"]), n.get("path", ""),
                                             datacenter=str(obj.get("VpcId", "")), variant=n.get("networkType", ""))
    for s in c.get("storages", []):
        inv.datastores[str(s["id"])] = Datastore(str(s["id"]), str(s["name"]), s.get("path", ""))
    volumes = {str(v["id"]): v for v in c.get("volumes", [])}
    for vm in c.get("vms", []):
        obj = vm.get("object") or {}
        disks = []
        for bdm in obj.get("BlockDeviceMappings") or []:
            vol_id = str((bdm.get("Ebs") or {}).get("VolumeId") or "")
            vol = (volumes.get(vol_id) or {}).get("object") or {}
            disks.append(Disk(vol_id, str(vol.get("VolumeType", "")), int(vol.get("Size") or 0) << 30,
                              str(bdm.get("DeviceName") or "")))
        nics = tuple(Nic(str(n.get("SubnetId") or ""), str(n.get("MacAddress") or ""))
                     for n in obj.get("NetworkInterfaces") or [])
        zone = str((obj.get("Placement") or {}).get("AvailabilityZone", ""))
        inv.vms[str(vm["id"])] = VM(
            id=str(vm["id"]), name=str(vm["name"]), path=vm.get("path") or f"/{zone}/{vm['name']}", folder=f"/{zone}",
            datacenter=zone, power_state=_power(vm.get("powerState", "")), guest_name=str(obj.get("PlatformDetails", "")),
            nics=nics, disks=tuple(disks), tags=_tags_of(obj), concerns=_concerns(vm.get("concerns")))
    return inv


def _hyperv(c: dict, info: ProviderInfo) -> Inventory:
    """d42511b pkg/controller/provider/web/hyperv (vm.go VM, model/hyperv Disk and NIC): a disk
    names its storage by a ref (one SMB share, `storage-0`), a NIC its virtual switch by a ref;
    those are what the maps name (adapter/hyperv builder.go, validator.go)."""
    inv = Inventory(info)
    for n in c.get("networks", []):
        inv.networks[str(n["id"])] = Network(str(n["id"]), str(n["name"]), n.get("path", ""),
                                             variant=n.get("switchType", ""))
    for s in c.get("storages", []):
        inv.datastores[str(s["id"])] = Datastore(str(s["id"]), str(s["name"]), s.get("path", ""))
    for h in c.get("hosts", []):
        inv.hosts[str(h["id"])] = Host(str(h["id"]), str(h["name"]), h.get("path", ""))
    for vm in c.get("vms", []):
        # the resource's path when the service sends one, else host/name (a VM lives on one host)
        host = inv.hosts.get(str(vm.get("host", "")))
        path = vm.get("path") or f"/{host.name if host else vm.get('host', '')}/{vm['name']}"
        inv.vms[str(vm["id"])] = VM(
            id=str(vm["id"]), name=str(vm["name"]), path=path, folder=folder_of(path), host=str(vm.get("host", "")),
            power_state=_power(vm.get("powerState", "")),
            firmware={"uefi": "efi", "bios": "bios"}.get(str(vm.get("firmware", "")).lower(), ""),   # Gen 2 / Gen 1
            guest_name=str(vm.get("guestOS", "")), uuid=str(vm.get("uuid", "")), tpm=bool(vm.get("tpmEnabled")),
            has_snapshot=bool(vm.get("hasCheckpoint")), cpu_count=int(vm.get("cpuCount") or 0),
            memory_mib=int(vm.get("memoryMB") or 0),
            ip_addresses=tuple(sorted({g.get("ip") for g in vm.get("guestNetworks") or [] if g.get("ip")})),
            nics=tuple(Nic(_ref_id(n.get("network")), str(n.get("mac", ""))) for n in vm.get("nics") or []),
            disks=tuple(Disk(str(d.get("id", "")), _ref_id(d.get("datastore")), int(d.get("capacity") or 0),
                             str(d.get("smbPath") or d.get("windowsPath") or ""), change_tracking=bool(d.get("rctEnabled")))
                        for d in vm.get("disks") or []),
            concerns=_concerns(vm.get("concerns")))
    return inv


def _nutanix(c: dict, info: ProviderInfo) -> Inventory:
    """d42511b pkg/controller/provider/web/nutanix (vm.go VM1, model/nutanix NIC and Disk): a NIC
    names its subnet by uuid, a disk its storage container by uuid; CD-ROMs are not disks."""
    inv = Inventory(info)
    clusters = {str(x.get("id")): x.get("name", "") for x in c.get("clusters", [])}
    for n in c.get("networks", []):
        inv.networks[str(n["id"])] = Network(str(n["id"]), str(n["name"]), n.get("path", ""),
                                             datacenter=clusters.get(str(n.get("cluster", "")), ""))
    for s in c.get("storagecontainers", []):
        inv.datastores[str(s["id"])] = Datastore(str(s["id"]), str(s["name"]), s.get("path", ""),
                                                 clusters.get(str(s.get("cluster", "")), ""))
    for h in c.get("hosts", []):
        inv.hosts[str(h["id"])] = Host(str(h["id"]), str(h["name"]), h.get("path", ""),
                                       cluster=clusters.get(str(h.get("cluster", "")), ""))
    for vm in c.get("vms", []):
        cluster = clusters.get(str(vm.get("cluster", "")), "")
        path = vm.get("path") or f"/{cluster}/{vm['name']}"
        boot = str(vm.get("bootType", "")).upper()
        inv.vms[str(vm["id"])] = VM(
            id=str(vm["id"]), name=str(vm["name"]), path=path, folder=folder_of(path), datacenter=cluster,
            cluster=cluster, host=str(vm.get("host", "")), uuid=str(vm.get("uuid", "")),
            power_state=_power(vm.get("powerState", "")), guest_id=str(vm.get("guestOsId", "")),
            firmware="efi" if boot in ("UEFI", "SECURE_BOOT") else "bios" if boot == "LEGACY" else "",
            cpu_count=int(vm.get("numSockets") or 0) * max(int(vm.get("numVcpusPerSocket") or 1), 1)
            * max(int(vm.get("numThreadsPerCore") or 1), 1), memory_mib=int(vm.get("memorySizeMib") or 0),
            ip_addresses=tuple(sorted({ip for n in vm.get("nics") or [] for ip in n.get("ipAddresses") or []})),
            nics=tuple(Nic(str(n.get("subnetUuid", "")), str(n.get("macAddress", ""))) for n in vm.get("nics") or []),
            disks=tuple(Disk(str(d.get("uuid", "")), str(d.get("storageContainerUuid", "")),
                             int(d.get("diskSizeBytes") or 0) or int(d.get("diskSizeMib") or 0) << 20,
                             bus=str(d.get("adapterType", "")).lower())
                        for d in vm.get("disks") or [] if not d.get("isCdrom") and d.get("deviceType") != "CDROM"),
            tags=tuple(sorted((str(k), str(v)) for k, v in (vm.get("categories") or {}).items())),
            concerns=_concerns(vm.get("concerns")))
    return inv


READERS: dict[str, Callable[[dict, ProviderInfo], Inventory]] = {
    "vsphere": _vsphere, "ovirt": _ovirt, "openstack": _openstack, "ova": _ova, "openshift": _openshift,
    "ec2": _ec2, "hyperv": _hyperv, "nutanix": _nutanix,
}

# The collections each reader uses: what a snapshot holds and what the live
# Forklift inventory client fetches.
COLLECTIONS: dict[str, tuple[str, ...]] = {
    "vsphere": ("vms", "networks", "datastores", "hosts", "clusters"),
    "ovirt": ("vms", "networks", "nicprofiles", "storagedomains", "disks", "hosts", "clusters", "datacenters"),
    "openstack": ("vms", "networks", "volumes", "volumetypes", "projects", "flavors"),
    "ova": ("vms", "networks", "storages"),
    "ec2": ("vms", "networks", "storages", "volumes"),
    "hyperv": ("vms", "networks", "storages", "hosts"),
    "nutanix": ("vms", "networks", "storagecontainers", "hosts", "clusters"),
    "openshift": ("vms", "networkattachmentdefinitions", "storageclasses", "persistentvolumeclaims"),
}


class ShapeError(ValueError):
    """The collections are not the shape these readers follow; the source says where.
    `path` leads to the offending value (collection, index) when it is known."""

    def __init__(self, message: str, path: tuple = ()):
        super().__init__(message)
        self.path = path


def read(provider_type: str, collections: dict, info: ProviderInfo) -> Inventory:
    """The Inventory, or ShapeError: an object without its `id` or `name`, a list where an
    object belongs, a number where text belongs... (both sources, file or service, reach
    this; each names itself in the message)."""
    for name in COLLECTIONS[provider_type]:
        items = collections.get(name) or []
        if not isinstance(items, list):
            raise ShapeError(f"collection '{name}' is a {type(items).__name__}, not a list", (name,))
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise ShapeError(f"collection '{name}' item {i} is a {type(item).__name__}, not an object", (name, i))
    try:
        return READERS[provider_type](collections, info)
    except KeyError as exc:
        raise ShapeError(f"an object lacks its required field {exc} (every object needs `id` and `name`; "
                         "OpenShift's `uid` and `name`)", _lacking(collections, provider_type, exc.args[0])) from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise ShapeError(f"{type(exc).__name__}: {exc}") from exc      # a list where an object belongs...


def _lacking(collections: dict, provider_type: str, key) -> tuple:
    """(collection, index) of the first object without `key`, or () if the key the reader
    missed is nested deeper."""
    for name in COLLECTIONS[provider_type]:
        for i, item in enumerate(collections.get(name) or []):
            if key not in item:
                return (name, i)
    return ()
