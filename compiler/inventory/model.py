"""The source inventory, the same for every provider type.

IDs are opaque strings everywhere (vSphere moRefs, oVirt/OpenStack UUIDs,
Kubernetes UIDs, even vcsim's path-like datastore ids): never parsed, never
used as file names.

The records (VM, Nic, Disk, Network, Datastore, Host) are msgspec Structs: frozen
values whose camelCase names are the lock file's keys, so `mtvgen build` decodes
and type-checks a lock straight into them (lock.py). Every field has a default
because the lock keeps ids as keys, outside the records.
"""

from __future__ import annotations


import msgspec


class Record(msgspec.Struct, frozen=True, rename="camel", gc=False):
    """An immutable inventory fact. gc=False: a record holds only strings, numbers and
    other records, so it can never be part of a reference cycle."""


class ProviderInfo(msgspec.Struct, frozen=True):
    type: str
    identity: dict = msgspec.field(default_factory=dict)  # e.g. vCenter instanceUuid, product
    origin: str = ""                              # where it was read from (file, URL)


class Network(Record):
    id: str = ""
    name: str = ""
    path: str = ""
    datacenter: str = ""
    variant: str = ""        # vSphere: Standard, DvPortGroup, OpaqueNetwork, DvSwitch
    namespace: str = ""      # OpenShift NADs
    key: str = ""            # vSphere DVPG key / opaque network id (NICs may name it)

    @property
    def mappable(self) -> bool:
        # distributed switches are listed among networks but are not port groups
        return self.variant != "DvSwitch"


class Datastore(Record):
    id: str = ""
    name: str = ""
    path: str = ""
    datacenter: str = ""


class Host(Record):
    id: str = ""
    name: str = ""
    path: str = ""
    datacenter: str = ""
    cluster: str = ""
    ip_addresses: tuple[str, ...] = ()
    in_maintenance: bool = False


class Nic(Record):
    network: str = ""       # network id ("" = not connected / unknown)
    mac: str = ""


class Disk(Record):
    key: str = ""
    datastore: str = ""     # storage id ("" = missing)
    capacity: int = 0       # bytes
    file: str = ""
    shared: bool = False
    rdm: bool = False
    mode: str = ""          # vSphere: persistent, independent_persistent, ...
    bus: str = ""
    change_tracking: bool = False
    lun: bool = False       # oVirt direct LUN
    lun_type: str = ""      # oVirt: fcp, iscsi
    volume: bool = True     # OpenStack: Cinder volume (False: image-backed)


class VM(Record):
    id: str = ""
    name: str = ""
    path: str = ""
    folder: str = ""        # path of the containing folder
    datacenter: str = ""
    cluster: str = ""
    host: str = ""          # host id
    namespace: str = ""     # OpenShift source VMs
    power_state: str = ""   # poweredOn / poweredOff / suspended (vSphere words for all)
    firmware: str = ""
    guest_id: str = ""
    guest_name: str = ""
    uuid: str = ""
    instance_uuid: str = ""
    change_tracking: bool = False
    has_snapshot: bool = False
    is_template: bool = False
    tools_status: str = ""
    ip_addresses: tuple[str, ...] = ()
    nics: tuple[Nic, ...] = ()
    disks: tuple[Disk, ...] = ()
    devices: tuple[str, ...] = ()       # notable device kinds: VirtualPCIPassthrough, ...
    cpu_hot_add: bool = False
    cpu_hot_remove: bool = False
    memory_hot_add: bool = False
    tpm: bool = False
    image_backed: bool = False          # OpenStack instance booted from an image
    cpu_count: int = 0                  # virtual CPUs (sockets x cores x threads where the source splits them)
    memory_mib: int = msgspec.field(default=0, name="memoryMiB")
    tags: tuple[tuple[str, str], ...] = ()         # (category, tag), sorted; vSphere tags, OpenStack tags ("")
    attributes: tuple[tuple[str, str], ...] = ()   # custom attributes (sorted)
    concerns: tuple[tuple[str, str], ...] = ()     # (category, label) from Forklift

    @property
    def network_ids(self) -> tuple[str, ...]:
        return tuple(sorted({n.network for n in self.nics if n.network}))

    @property
    def datastore_ids(self) -> tuple[str, ...]:
        return tuple(sorted({d.datastore for d in self.disks if d.datastore}))


def name_of(records: dict, record_id: str) -> str:
    """A host's, network's or datastore's name by its id; the id itself when the records do
    not hold it (the source no longer lists it)."""
    record = records.get(record_id)
    return record.name if record is not None else record_id


class Inventory(msgspec.Struct):
    provider: ProviderInfo
    vms: dict[str, VM] = msgspec.field(default_factory=dict)
    networks: dict[str, Network] = msgspec.field(default_factory=dict)
    datastores: dict[str, Datastore] = msgspec.field(default_factory=dict)
    hosts: dict[str, Host] = msgspec.field(default_factory=dict)
    # VMs a source read but Forklift's inventory would not list: id -> (name, why)
    skipped: dict[str, tuple[str, str]] = msgspec.field(default_factory=dict)


class TargetFacts(msgspec.Struct, omit_defaults=True):
    """What the destination cluster had when the lock was made. `stale`: carried over by a
    lock made without cluster access (the facts and the errors they raise are kept)."""
    context: str
    namespaces: dict[str, bool] = msgspec.field(default_factory=dict)          # name -> exists
    storage_classes: dict[str, str] = msgspec.field(default_factory=dict)      # name -> provisioner
    nads: dict[str, str] = msgspec.field(default_factory=dict)                 # ns/name -> route annotation
    service_accounts: list[str] = msgspec.field(default_factory=list)          # ns/name that exist
    providers: dict[str, dict] = msgspec.field(default_factory=dict)           # name -> {type, url}
    vms: dict[str, list[str]] = msgspec.field(default_factory=dict)            # ns -> VM names
    # ns -> its ResourceQuotas: [{name, hard: {resource: quantity}, used: {...}}] (status, as the quota controller wrote it)
    quotas: dict[str, list[dict]] = msgspec.field(default_factory=dict)
    stale: bool = False
