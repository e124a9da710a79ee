"""Selectors, one key at a time, against a small inventory (pure: no network)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import pipeline, resolve, spec
from compiler.errors import DiagnosticsFailed
from compiler.inventory.snapshot import SnapshotFile
from compiler.inventory import shapes
from compiler.inventory.model import VM, Inventory, ProviderInfo
import sitekit
from sitekit import vm

VMS = [
    vm("vm-1", "web-01", "/DC/vm/prod/web", powerState="poweredOn", firmware="efi", guestId="rhel9_64Guest",
       customDef=[{"key": 7, "name": "owner"}], customValues=[{"key": 7, "value": "team-web"}]),
    vm("vm-2", "web-02", "/DC/vm/prod/web", host="host-2", guestId="windows2019srvNext_64Guest"),
    vm("vm-3", "db-01", "/DC/vm/prod/db", firmware="efi"),
    vm("vm-4", "db-01", "/DC2/vm/db"),
]
HOSTS = [{"id": "host-1", "name": "esx1", "path": "/DC/host/C1/esx1", "cluster": "domain-c1"},
         {"id": "host-2", "name": "esx2", "path": "/DC/host/C2/esx2", "cluster": "domain-c2"}]
CLUSTERS = [{"id": "domain-c1", "name": "C1"}, {"id": "domain-c2", "name": "C2"}]


def _selected(tmp_path, selector: str, exclude: str = "", datacenters: str = ""):
    text = sitekit.BASE_SPEC.replace("      - folder: /DC/vm/prod", f"      - {selector}")
    if exclude:
        text += f"    exclude:\n      - {exclude}\n"
    if datacenters:
        text = text.replace("  vddkImage:", f"  datacenters: [{datacenters}]\n  vddkImage:")
    d = sitekit.make(tmp_path, text)
    site = spec.load(d)
    inv = shapes.read("vsphere", sitekit.inventory(vms=VMS, hosts=HOSTS, clusters=CLUSTERS), ProviderInfo("vsphere"))
    res = resolve.resolve(site, inv)
    return res.plans.get("wave1", []), res.diagnostics


@pytest.mark.parametrize("selector,want", [
    ("{name: web-01}", ["vm-1"]),
    ("{id: vm-2}", ["vm-2"]),
    ("{path: /DC2/vm/db/db-01}", ["vm-4"]),
    ("{glob: 'web-*'}", ["vm-1", "vm-2"]),
    ("{regex: 'web-0[2-9]'}", ["vm-2"]),
    ("{folder: /DC/vm/prod}", ["vm-3", "vm-1", "vm-2"]),
    ("{datacenter: DC2}", ["vm-4"]),
    ("{cluster: C2}", ["vm-2"]),
    ("{host: esx1, folder: /DC/vm/prod/web}", ["vm-1"]),
    ("{powerState: poweredOn}", ["vm-1"]),
    ("{guestId: 'windows*'}", ["vm-2"]),
    ("{firmware: efi}", ["vm-3", "vm-1"]),
    ("{attributes: {owner: 'team-*'}}", ["vm-1"]),
    ("{name: db-01, datacenter: DC}", ["vm-3"]),
])
def test_selector(tmp_path, selector, want):
    got, diags = _selected(tmp_path, selector)
    assert got == want, [str(d) for d in diags]


def test_exclude_and_datacenter_scope(tmp_path):
    got, _ = _selected(tmp_path, "{glob: '*'}", exclude="{glob: 'db-*'}")
    assert got == ["vm-1", "vm-2"]
    got, diags = _selected(tmp_path, "{name: db-01}", datacenters="DC")
    assert got == ["vm-3"] and not diags  # the DC2 namesake is out of scope


def test_bad_regex_is_a_spec_error(tmp_path):
    _, diags = _selected(tmp_path, "{regex: 'web-('}")
    assert [d.code for d in diags] == ["MTV001", "MTV015"] and "does not compile" in diags[0].message


# The index must never change what a selector picks: against brute force, on paths
# with trailing slashes, root folders, names equal to folder names and empty fields.
_PART = st.sampled_from(["DC", "DC2", "vm", "prod", "web", "a", ""])


@settings(max_examples=300, deadline=None)
@given(paths=st.lists(st.lists(_PART, min_size=1, max_size=4), min_size=1, max_size=12),
       key=st.sampled_from(["folder", "name", "path", "datacenter", "cluster", "id"]),
       want=st.lists(_PART, max_size=4), slash=st.booleans(), extra=st.booleans())
def test_candidate_index_selects_exactly_what_brute_force_selects(paths, key, want, slash, extra):
    vms = [VM(id=f"vm-{i}", name=parts[-1], path="/" + "/".join(parts), datacenter=parts[0], cluster=parts[-1])
           for i, parts in enumerate(paths)]
    value = "/" + "/".join(want) + ("/" if slash else "") if key in ("folder", "path") else (want or [""])[0]
    if key == "id":
        value = f"vm-{len(want)}"
    criteria = {key: value, **({"datacenter": "DC"} if extra else {})}
    match = resolve._Matcher(Inventory(provider=ProviderInfo("vsphere", {}), vms={}))
    expected = [v for v in vms if match(v, criteria)]
    assert [v for v in resolve._Candidates(vms)(criteria) if match(v, criteria)] == expected


class _GhostingSource(SnapshotFile):
    """A snapshot whose details find some VMs to be ghosts, as vsphere.details does for a VM
    vCenter reports without UUIDs or host; it records which VMs it was asked about."""

    def __init__(self, path, ghosts):
        super().__init__(path, "vsphere")
        self.ghosts, self.asked = set(ghosts), []

    def details(self, inv, vm_ids):
        self.asked.append(set(vm_ids))
        for i in sorted(self.ghosts & set(vm_ids)):
            inv.skipped[i] = (inv.vms.pop(i).name, "vCenter reports no UUID, instance UUID or host")
        return inv


def _lock_with_ghosts(tmp_path, spec_text, vms, ghosts):
    d = sitekit.make(tmp_path, spec_text, sitekit.inventory(vms=vms))
    source = _GhostingSource(d / "inventory.yaml", ghosts)
    return pipeline.lock_site(spec.load(d), source), source


def test_a_ghost_vm_is_left_out_with_a_warning_at_its_plan(tmp_path):
    """A VM Forklift's inventory would not list must not reach a Plan (it would never be
    Ready): a folder selection goes on without it and says so."""
    vms = [vm("vm-1", "alpha"), vm("vm-2", "beta"), vm("vm-3", "gamma")]
    (lock, _changes, diags), source = _lock_with_ghosts(tmp_path, sitekit.BASE_SPEC, vms, {"vm-2"})
    assert lock.plans == {"wave1": ["vm-1", "vm-3"]} and "vm-2" not in lock.vms
    assert source.asked == [{"vm-1", "vm-2", "vm-3"}]           # the second selection reads nothing again
    [d] = [d for d in diags if d.code == "MTV084"]
    assert d.level == "warning" and "'beta' (vm-2) is left out of plan 'wave1'" in d.message
    assert d.location.line == next(i for i, line in enumerate(sitekit.BASE_SPEC.splitlines(), 1)
                                   if line == "  - name: wave1")


def test_a_ghost_named_exactly_is_not_found(tmp_path):
    text = sitekit.BASE_SPEC.replace("      - folder: /DC/vm/prod", "      - name: beta")
    with pytest.raises(DiagnosticsFailed) as failed:
        _lock_with_ghosts(tmp_path, text, [vm("vm-1", "alpha"), vm("vm-2", "beta")], {"vm-2"})
    assert {d.code for d in failed.value.diagnostics} >= {"MTV010", "MTV084"}
