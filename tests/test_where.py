"""`where:` (issue 22 item 1): CEL over one VM model, type-checked when the spec loads
(errors at the expression's line and column, with the fields that exist), evaluated per
VM with Google's CEL, combinable with the other keys and `exclude`; a VM it cannot judge
is not selected and said so; a VM that leaves a plan says what changed about it."""

from __future__ import annotations

import pytest

import sitekit
from compiler import pipeline, selection
from compiler.errors import DiagnosticsFailed
from compiler.inventory.snapshot import SnapshotFile
from sitekit import BASE_SPEC, vm


def tagged(vm_id, name, cpus, mib, tags=(), power="poweredOn", **kw):
    """A vSphere VM as Forklift's inventory serves it (kubev2v/forklift d42511b
    pkg/controller/provider/web/vsphere/vm.go: cpuCount, memoryMB; tags are
    model/vsphere/model.go Tag: id, description, name, categoryID, usedBy)."""
    return vm(vm_id, name, cpuCount=cpus, memoryMB=mib, powerState=power,
              tags=[{"id": f"t-{t}", "name": t, "categoryID": c, "description": "", "usedBy": []} for c, t in tags],
              **kw)


VMS = [tagged("vm-1", "small-prod", 2, 4096, [("env", "prod")]),
       tagged("vm-2", "big-prod", 16, 65536, [("env", "prod"), ("tier", "db")]),
       tagged("vm-3", "small-test", 2, 4096, [("env", "test")], power="poweredOff"),
       tagged("vm-4", "untagged", 4, 8192)]


def spec_with(select: str, exclude: str = "") -> str:
    text = BASE_SPEC.replace("      - folder: /DC/vm/prod\n", select)
    return text + exclude


def chosen(tmp_path, select, exclude="", vms=VMS):
    d = sitekit.make(tmp_path, spec_with(select, exclude), sitekit.inventory(vms=vms))
    site, diags = sitekit.lock(d)
    from compiler import lock as lockmod
    lock = lockmod.read(site)
    return sorted(lock.vms[i].name for i in lock.plans.get("wave1", [])), diags


def test_where_selects_by_size_tags_and_power(tmp_path):
    names, diags = chosen(tmp_path, "      - folder: /DC/vm/prod\n"
                                    "        where: \"vm.cpuCount <= 4 && 'env' in vm.tags && "
                                    "'prod' in vm.tags['env'] && vm.powerState == 'poweredOn'\"\n")
    assert names == ["small-prod"] and not [d for d in diags if d.level != "info"]


def test_where_with_exclude_and_the_other_keys(tmp_path):
    names, _ = chosen(tmp_path, "      - glob: '*-prod'\n      - where: vm.memoryMiB >= 8192\n",
                      "    exclude:\n      - where: \"'tier' in vm.tags && 'db' in vm.tags['tier']\"\n")
    assert names == ["small-prod", "untagged"]


def test_a_vm_it_cannot_judge_is_not_selected_and_said(tmp_path):
    names, diags = chosen(tmp_path, "      - where: \"'prod' in vm.tags['env']\"\n")
    assert names == ["big-prod", "small-prod"]
    [d] = [d for d in diags if d.code == "MTV028"]
    assert d.message == "where: could not be evaluated for 1 VM(s), which are not selected; 'untagged' (vm-4): " \
                        "Key not found in map : \"env\""
    assert (d.level, d.location.line, d.plan) == ("warning", 24, "wave1")


@pytest.mark.parametrize("expr, col, words", [
    ("vm.memoryMb > 1", 18, "where: vm has no field 'memoryMb'; did you mean 'memoryMiB'?"),
    ("vm.cpuCount > 'x'", 28, "where: found no matching overload for '_>_' applied to '(int, string)'"),
    ("vm.cpuCount", 16, "where: it gives int values, not true or false"),
    ("vm.cpuCount >", 29, "where: Syntax error: mismatched input '<EOF>'"),
])
def test_errors_point_into_the_expression_when_the_spec_loads(tmp_path, expr, col, words):
    d = sitekit.make(tmp_path, spec_with(f"      - where: {expr}\n"), sitekit.inventory(vms=VMS))
    with pytest.raises(DiagnosticsFailed) as exc:
        sitekit.lock(d)
    [diag] = [x for x in exc.value.diagnostics if x.code == "MTV027"]
    assert diag.message.startswith(words)
    assert (diag.location.line, diag.location.col) == (24, col), diag
    if "no field" in words:
        assert "memoryMiB" in diag.help and "tags" in diag.help and "concerns" in diag.help


def test_a_quoted_expression_points_past_its_quote(tmp_path):
    d = sitekit.make(tmp_path, spec_with("      - where: \"vm.memoryMb > 1\"\n"), sitekit.inventory(vms=VMS))
    with pytest.raises(DiagnosticsFailed) as exc:
        sitekit.lock(d)
    [diag] = [x for x in exc.value.diagnostics if x.code == "MTV027"]
    assert diag.location.col == 19       # the '.' of vm.memoryMb, one past the quote


def test_a_vm_that_left_its_plan_says_what_changed(tmp_path):
    d = sitekit.make(tmp_path, spec_with("      - where: vm.memoryMiB <= 8192\n"), sitekit.inventory(vms=VMS))
    sitekit.lock(d)
    grown = [tagged("vm-4", "untagged", 4, 32768) if v["id"] == "vm-4" else v for v in VMS]
    (d / "inventory.yaml").write_text(__import__("yaml").safe_dump(sitekit.inventory(vms=grown)))
    site = pipeline.spec.load(d)
    _, lines, _ = pipeline.lock_site(site, SnapshotFile(d / "inventory.yaml", "vsphere"))
    assert "plan wave1 loses VM vm-4 'untagged': memoryMiB 8192 -> 32768" in lines


def test_the_vm_model_reads_the_same_facts_from_every_source_that_has_them():
    """Facts from each upstream shape (kubev2v/forklift d42511b web/<type>/vm.go)."""
    from compiler.inventory import shapes
    from compiler.inventory.model import ProviderInfo
    vs = shapes.read("vsphere", {"vms": [tagged("vm-1", "a", 4, 8192, [("cat-1", "prod")])]}, ProviderInfo("vsphere"))
    assert (vs.vms["vm-1"].cpu_count, vs.vms["vm-1"].memory_mib, vs.vms["vm-1"].tags) == (4, 8192, (("cat-1", "prod"),))
    ov = shapes.read("ovirt", {"vms": [{"id": "o", "name": "o", "cpuSockets": 2, "cpuCores": 4, "cpuThreads": 1,
                                        "memory": 8 << 30}]}, ProviderInfo("ovirt"))
    assert (ov.vms["o"].cpu_count, ov.vms["o"].memory_mib) == (8, 8192)
    os_ = shapes.read("openstack", {"vms": [{"id": "s", "name": "s", "flavorID": "f1", "tags": ["finance"]}],
                                    "flavors": [{"id": "f1", "name": "m1", "vcpus": 2, "ram": 4096}]},
                      ProviderInfo("openstack"))
    assert (os_.vms["s"].cpu_count, os_.vms["s"].memory_mib, os_.vms["s"].tags) == (2, 4096, (("", "finance"),))
    ova = shapes.read("ova", {"vms": [{"id": "v", "name": "v", "cpuCount": 1, "memoryMB": 512}]}, ProviderInfo("ova"))
    assert (ova.vms["v"].cpu_count, ova.vms["v"].memory_mib) == (1, 512)
    ocp = shapes.read("openshift", {"vms": [{"uid": "u", "name": "k", "namespace": "n", "object": {"spec": {
        "template": {"spec": {"domain": {"cpu": {"cores": 2, "sockets": 2}, "memory": {"guest": "4Gi"}}}}}}}]},
        ProviderInfo("openshift"))
    assert (ocp.vms["u"].cpu_count, ocp.vms["u"].memory_mib) == (4, 4096)


def test_concerns_are_objects_cel_can_ask_about():
    from compiler.inventory.model import VM, Inventory, ProviderInfo
    inv = Inventory(ProviderInfo("vsphere"))
    v = VM(id="x", name="x", concerns=(("Critical", "Shared disk detected"), ("Information", "VM has RDM")))
    assert selection.matches("vm.concerns.exists(c, c.category == 'Critical')", v, inv) is True
    assert selection.matches("vm.concerns.all(c, c.category != 'Critical')", v, inv) is False
    assert selection.matches("vm.concerns.size() == 2 && vm.name == 'x'", v, inv) is True


def test_the_readme_documents_every_field_of_the_model():
    from conftest import ROOT
    text = (ROOT / "README.md").read_text()
    assert all(f"| `vm.{f.name}` |" in text for f in selection.FIELDS)


def test_every_where_the_readme_shows_compiles():
    """The side-by-side table and the example: each expression type-checks as a boolean."""
    import re
    from conftest import ROOT
    text = (ROOT / "README.md").read_text().split("### Selecting by what you know", 1)[1].split("### Every Plan", 1)[0]
    # expressions, not the model table's bare field names (`vm.name`)
    exprs = [m.replace("\\|", "|") for m in re.findall(r"\| `(vm\.[^`]*)`", text) if " " in m or "(" in m]
    exprs += [m for m in re.findall(r'where: "(.*)"', text)]
    assert len(exprs) >= 10
    for e in exprs:
        selection.compile(e)
