"""Selectors, one key at a time, against a small inventory (pure: no network)."""

from __future__ import annotations

import pytest

from compiler import resolve, spec
from compiler.inventory import shapes
from compiler.inventory.model import ProviderInfo
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
