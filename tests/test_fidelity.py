"""Sources read as the Forklift inventory serves them (the bundled snapshots cite the
upstream structs), and mappings that mean what Forklift will do with them."""

from __future__ import annotations

import json
import shutil
import typing

import msgspec
import pytest
import yaml
from hypothesis import given, settings, strategies as st

import sitekit
from compiler import check, lifecycle, lock as lockmod, spec
from compiler.inventory import shapes
from compiler.inventory.model import VM, Datastore, Disk, Network, Nic, ProviderInfo
from compiler.errors import LockError
from conftest import NOW, ROOT, run
from sitekit import BASE_SPEC


@pytest.fixture
def repo(tmp_path):
    shutil.copytree(ROOT / "sites", tmp_path / "sites")
    return tmp_path


def snapshot(name: str) -> dict:
    return yaml.safe_load((ROOT / "sites" / name / "inventory.yaml").read_text())


def read(name: str, data: dict | None = None):
    data = data or snapshot(name)
    return shapes.read(data["provider"]["type"], data, ProviderInfo(data["provider"]["type"]))


def diags(repo, site):
    assert run(["lock", f"sites/{site}", "--inventory", f"sites/{site}/inventory.yaml"], repo).exit_code == 0
    s = spec.load(repo / "sites" / site)
    lock = lockmod.read(s)
    return check.run(lifecycle.expand(s, lock), lock)


# ------------------------------------------------------------------ oVirt

def test_ovirt_paths_datacenters_firmware_and_luns():
    inv = read("rhv-lab")
    jenkins = inv.vms["9f1e2d3c-0001-0000-0000-000000000001"]
    assert (jenkins.path, jenkins.cluster, jenkins.datacenter) == ("Default/Jenkins CI", "Default", "Default")
    assert jenkins.firmware == "efi"                                              # bios: q35_ovmf
    assert inv.vms["9f1e2d3c-0003-0000-0000-000000000003"].firmware == "bios"      # q35_sea_bios
    lun = next(d for d in jenkins.disks if d.key == "d-103")
    assert (lun.lun, lun.datastore, lun.capacity) == (True, "", 536870912000)
    assert inv.networks["00000000-0000-0000-0000-000000000009"].datacenter == "Default"


def test_ovirt_direct_lun_is_not_a_storage_map_problem(repo):
    codes = {d.code for d in diags(repo, "rhv-lab")}
    assert "MTV062" in codes and not codes & {"MTV070", "MTV071", "MTV031", "MTV063"}


def test_ovirt_lun_on_an_old_engine_and_a_lun_without_size(repo):
    inv = repo / "sites/rhv-lab/inventory.yaml"
    inv.write_text(inv.read_text().replace("product: oVirt Engine 4.5.6", "product: RHV 4.4.10")
                   .replace("lunMapping: 1, size: 536870912000", "lunMapping: 1, size: 0"))
    found = {(d.code, d.vm) for d in diags(repo, "rhv-lab") if d.code in ("MTV063", "MTV071")}
    assert found == {("MTV063", "Jenkins CI"), ("MTV071", "Jenkins CI")}


def test_ovirt_selection_by_datacenter(repo):
    site = repo / "sites/rhv-lab/site.yaml"
    site.write_text(site.read_text().replace("      - cluster: Default", "      - datacenter: Default"))
    assert run(["lock", "sites/rhv-lab", "--inventory", "sites/rhv-lab/inventory.yaml"], repo).exit_code == 0
    assert len(json.loads((repo / "sites/rhv-lab/mtvgen.lock").read_text())["plans"]["lab-wave1"]) == 2


# ------------------------------------------------------------------ OpenStack

def test_openstack_one_interface_per_network_name():
    ledger = read("openstack-east").vms["1a2b3c4d-0001-4000-8000-000000000001"]
    assert [(n.network, n.mac) for n in ledger.nics] == [("7e1d0000-0000-0000-0000-000000000001", "fa:16:3e:00:00:01")]


def test_openstack_dual_stack_port_on_the_pod_network_is_one_nic(repo):
    assert "MTV032" not in {d.code for d in diags(repo, "openstack-east")}


# ------------------------------------------------------------------ OVA

@pytest.mark.parametrize("capacity,units,want", [(20, "byte * 2^30", 20 << 30), (102400, "megabytes", 100 << 30),
                                                 (10, "byte", 10), (5, "byte * 1024", 5120), (1, "bit", 0),
                                                 (3, "byte * 2^x", 0)])
def test_ova_capacity_units(capacity, units, want):
    assert shapes.ova_capacity(capacity, units) == want


def test_ova_go_field_names_and_one_storage_per_disk():
    inv = read("ova-archive")
    vm = inv.vms["ova-vm-1"]
    assert [(d.key, d.datastore, d.capacity) for d in vm.disks] == [
        ("3b9b0000-0000-0000-0000-00000000d101", "3b9b0000-0000-0000-0000-00000000d101", 20 << 30),
        ("3b9b0000-0000-0000-0000-00000000d102", "3b9b0000-0000-0000-0000-00000000d102", 100 << 30)]
    assert [(n.network, n.mac) for n in vm.nics] == [("n-vmnet", "00:0c:29:00:00:01")]
    assert set(inv.datastores) == {d.key for v in inv.vms.values() for d in v.disks}


def test_ova_storage_map_must_cover_every_disk(repo):
    site = repo / "sites/ova-archive/site.yaml"
    site.write_text(site.read_text().replace("  - source: monitoring-disk2.vmdk\n    storageClass: nfs-csi\n", ""))
    found = [d for d in diags(repo, "ova-archive") if d.code == "MTV031"]
    assert [(d.vm, "monitoring-disk2.vmdk" in d.message) for d in found] == [("Monitoring Appliance 2.1", True)]


# ------------------------------------------------------------------ OpenShift

def test_openshift_classes_by_uid_and_vms_on_existing_pvcs():
    inv = read("ocp-east")
    assert list(inv.datastores) == ["6d1a9e44-0000-0000-0000-00000000c001"]
    on_pvc = inv.vms["7c6b5a49-0000-0000-0000-000000000002"]
    assert [(d.key, d.datastore, d.capacity) for d in on_pvc.disks] == [
        ("legacy-1234-disk", "6d1a9e44-0000-0000-0000-00000000c001", 50 << 30)]


def test_openshift_storage_map_carries_the_uid(repo):
    assert run(["build", "sites/ocp-east", "--now", NOW], repo).exit_code == 0
    sm = yaml.safe_load((repo / "out/ocp-east/shared/storagemap-ocp-east-storage.yaml").read_text())
    assert sm["spec"]["map"][0]["source"] == {"id": "6d1a9e44-0000-0000-0000-00000000c001",
                                              "name": "ocs-storagecluster-ceph-rbd"}


# ------------------------------------------------------------------ mappings

TWO_DC = sitekit.inventory(networks=[
    {"id": "network-1", "name": "VM Network", "path": "/DC/network/VM Network", "variant": "Standard"},
    {"id": "network-2", "name": "VM Network", "path": "/DC2/network/VM Network", "variant": "Standard"},
    {"id": "dvportgroup-2", "name": "App", "path": "/DC/network/App", "variant": "DvPortGroup"}])


def _maps(tmp_path, networks: str):
    text = BASE_SPEC.replace("networks:\n  - source: VM Network\n    target: app-net\n", "networks:\n" + networks)
    d = sitekit.make(tmp_path, text, TWO_DC)
    try:
        s, found = sitekit.lock(d)
    except Exception as exc:                                  # noqa: BLE001 - the test reads the diagnostics
        return None, exc.diagnostics
    return json.loads((d / "mtvgen.lock").read_text())["maps"]["t-network"], found


def test_the_most_specific_mapping_entry_wins(tmp_path):
    maps, found = _maps(tmp_path, "  - {source: VM Network, target: pod}\n"
                                  "  - {source: VM Network, datacenter: DC, target: app-net}\n")
    assert maps[:2] == [["network-2"], ["network-1"]]             # DC's network goes to the scoped entry
    assert [d.code for d in found] == []


def test_a_name_in_several_datacenters_is_noted(tmp_path):
    maps, found = _maps(tmp_path, "  - {source: VM Network, target: app-net}\n")
    assert maps[0] == ["network-1", "network-2"]
    assert [(d.code, d.level) for d in found] == [("MTV039", "info")] and "DC, DC2" in found[0].message


def test_two_equally_specific_entries_are_an_error(tmp_path):
    maps, found = _maps(tmp_path, "  - {source: VM Network, datacenter: DC, target: app-net}\n"
                                  "  - {id: network-1, target: pod}\n  - {id: network-1, target: ignored}\n")
    assert maps is None and [d.code for d in found if d.level == "error"] == ["MTV038"]


# ------------------------------------------------------------------ the lock keeps every fact

def every_field(cls, **given_):
    """Values for every field (st.builds alone leaves fields with defaults at their default)."""
    hints = typing.get_type_hints(cls)
    return st.builds(cls, **{f.name: given_[f.name] if f.name in given_ else st.from_type(hints[f.name])
                             for f in msgspec.structs.fields(cls)})


@settings(max_examples=150, deadline=None)
@given(every_field(VM, nics=st.lists(every_field(Nic), max_size=3).map(tuple),
                   disks=st.lists(every_field(Disk), max_size=3).map(tuple)))
def test_a_vm_survives_the_lock_exactly(tmp_path_factory, vm):
    """Whatever a reader records, `build` reads back the same: a record written without its
    empty values (and a disk's `volume: false`, whose default is true) comes back equal."""
    d = tmp_path_factory.mktemp("lock")
    (d / "site.yaml").write_text(BASE_SPEC)
    site = spec.load(d)
    lock = lockmod.Lock(site.name, ProviderInfo("vsphere"), {}, vms={vm.id: vm}, plans={"wave1": [vm.id]},
                        networks={n: Network(n, "net") for n in vm.network_ids},
                        datastores={d: Datastore(d, "ds") for d in vm.datastore_ids})
    lockmod.write(site, lock)
    assert lockmod.read(site).vms == {vm.id: vm}
    # written as json.dumps(indent=1, sort_keys=True) writes it, as earlier locks were: a
    # relock of an unchanged site changes no byte
    text = site.lock_path.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_a_lock_with_a_wrong_type_names_the_record_and_its_line(tmp_path):
    d = sitekit.make(tmp_path)
    sitekit.lock(d)
    text = (d / "mtvgen.lock").read_text()
    at = text.index('"capacity": ') + len('"capacity": ')
    (d / "mtvgen.lock").write_text(text[:at] + '"ten",' + text[text.index("\n", at):])
    s = spec.load(d)
    with pytest.raises(LockError) as err:
        lockmod.read(s)
    vm_id = next(iter(json.loads(text)["vms"]))
    line = text[:text.index(f'"{vm_id}": {{', text.index('"vms": {'))].count("\n") + 1
    assert err.value.where.line == line
    assert f"VM '{vm_id}': Expected `int`, got `str` - at `$.disks[0].capacity`" in str(err.value)


@pytest.mark.parametrize("path,dc", [
    ("/DC/vm/prod/alpha", "DC"), ("/Region/EU/DC/vm/alpha", "DC"),   # datacenters inside folders
    ("/DC/datastore/ds1", "DC"), ("/DC/host/C1/esx1", "DC"), ("/DC/network/VM Network", "DC"),
    ("/ds-in-pod", ""), ("/vm-in-vapp", ""), ("", ""),               # Forklift's path stops at a StoragePod, a vApp
])
def test_the_datacenter_of_a_vsphere_path(path, dc):
    assert shapes.datacenter_of(path) == dc


def test_datastore_clusters_and_nested_datacenters_under_a_datacenter_scope(tmp_path):
    """Forklift paths a datastore in a datastore cluster as /ds1 (its walk stops at the
    StoragePod), and a datacenter in a folder as /Region/DC/...: under `datacenters: [DC]`
    the VM is still selected and its datastore still mapped."""
    inv = sitekit.inventory(
        datastores=[{"id": "datastore-1", "name": "ds1", "path": "/ds1"}],
        vms=[sitekit.vm("vm-1", "alpha", folder="/Region/DC/vm/prod")])
    text = BASE_SPEC.replace("  credentials:\n", "  datacenters: [DC]\n  credentials:\n", 1) \
        .replace("      - folder: /DC/vm/prod", "      - folder: /Region/DC/vm/prod")
    d = sitekit.make(tmp_path, text, inv)
    sitekit.lock(d)
    lock = json.loads((d / "mtvgen.lock").read_text())
    assert lock["plans"] == {"wave1": ["vm-1"]} and lock["maps"]["t-storage"] == [["datastore-1"]]
