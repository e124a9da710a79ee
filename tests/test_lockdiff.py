"""`lock` and `lock --check` name every change between two locks in words."""

from __future__ import annotations

import msgspec

from compiler.inventory.model import VM, Disk, Nic, ProviderInfo
from compiler.lock import Lock
from compiler.lockdiff import changes

GIB = 1 << 30
APP = VM(id="vm-149", name="app-01", path="/DC/vm/Old/app-01", folder="/DC/vm/Old", power_state="poweredOn",
         host="host-1", change_tracking=True,
         nics=(Nic("network-1", "00:50:56:00:00:01"),),
         disks=(Disk("2000", "datastore-1", 10 * GIB), Disk("2001", "datastore-1", 20 * GIB)))


def _lock(*vms, plans=None, maps=None, hosts=None, identity=None):
    return Lock(site="s", provider=ProviderInfo("vsphere", identity or {"instanceUuid": "u-1"}), inputs={},
                vms={v.id: v for v in vms}, plans=plans or {"p": [v.id for v in vms]},
                maps=maps or {"s-network": [["network-1"]]}, host_ids=hosts or {})


def test_nothing_changed_says_nothing():
    assert changes(_lock(APP), _lock(APP)) == []


def test_every_vm_fact_in_words():
    moved = msgspec.structs.replace(
        APP, name="app-01-old", path="/DC/vm/New/app-01-old", folder="/DC/vm/New", power_state="poweredOff",
        has_snapshot=True, change_tracking=False,
        nics=(Nic("network-2", "00:50:56:00:00:01"), Nic("network-1", "00:50:56:00:00:02")),
        disks=(Disk("2000", "datastore-1", 12 * GIB), Disk("2002", "datastore-2", 1 * GIB)))
    assert changes(_lock(APP), _lock(moved)) == [
        "VM vm-149 'app-01' is now 'app-01-old'",
        "VM vm-149 'app-01' moved from /DC/vm/Old to /DC/vm/New",
        "VM vm-149 'app-01': power poweredOn -> poweredOff",
        "VM vm-149 'app-01': has a new snapshot",
        "VM vm-149 'app-01': change block tracking turned off",
        "VM vm-149 'app-01': new NIC 00:50:56:00:00:02 on network-1",
        "VM vm-149 'app-01': NIC 00:50:56:00:00:01 network network-1 -> network-2",
        "VM vm-149 'app-01': new disk 2002 (1 GiB on datastore-2)",
        "VM vm-149 'app-01': disk 2001 removed",
        "VM vm-149 'app-01': disk 2000 resized 10 GiB -> 12 GiB",
    ]


def test_disk_changes_other_than_size_and_storage_are_named_by_field():
    shared = msgspec.structs.replace(APP, disks=(Disk("2000", "datastore-1", 10 * GIB, shared=True), APP.disks[1]))
    assert changes(_lock(APP), _lock(shared)) == ["VM vm-149 'app-01': disk 2000 changed (shared)"]


def test_plans_mappings_hosts_and_provider():
    other = VM(id="vm-7", name="db-01", path="/DC/vm/Old/db-01", folder="/DC/vm/Old")
    old = _lock(APP, plans={"p": ["vm-149"]}, hosts={"esx1": "host-1"})
    new = _lock(APP, other, plans={"p": ["vm-7"]}, maps={"s-network": [["network-1", "network-9"]]},
                hosts={"esx1": "host-2"}, identity={"instanceUuid": "u-2"})
    assert changes(old, new) == [
        "VM vm-7 'db-01' added at /DC/vm/Old/db-01",
        "plan p: 1 -> 1 VM(s)",
        "plan p gains vm-7 'db-01'",
        "plan p loses vm-149 'app-01'",
        "mapping s-network entry 1: network-1 -> network-1, network-9",
        "ESXi host esx1: host-1 -> host-2",
        "source provider identity: instanceUuid=u-1 -> instanceUuid=u-2",
    ]
    assert changes(new, old)[0] == "VM vm-7 'db-01' removed"


def test_first_lock():
    assert changes(None, _lock(APP)) == ["new lock: 1 VM(s) in 1 plan(s)"]
