"""Parts of the vSphere source that vcsim cannot exercise (it ignores
RetrieveOptions.maxObjects, so it never pages), and credential handling."""

from __future__ import annotations

import pytest

from compiler.errors import UsageError
from compiler.inventory import vsphere, vsphere_records


class _Result:
    def __init__(self, objects, token):
        self.objects, self.token = objects, token


class _Object:
    def __init__(self, moid):
        self.obj = type("Ref", (), {"_moId": moid})()
        self.propSet, self.missingSet = [], []


class _PC:
    """Three pages; records what was asked."""

    def __init__(self):
        self.calls = []

    def RetrievePropertiesEx(self, specs, options):
        self.calls.append(("first", options.maxObjects))
        return _Result([_Object("a"), _Object("b")], "t1")

    def ContinueRetrievePropertiesEx(self, token):
        self.calls.append(("continue", token))
        return _Result([_Object("c")], "t2") if token == "t1" else _Result([_Object("d")], None)


def test_retrieve_follows_continuation_tokens():
    src = vsphere.VSphereSource("https://vc.example/sdk", vsphere.Credentials("u", "p"), page_size=2, progress=False)
    pc = _PC()
    src._content = type("Content", (), {"propertyCollector": pc})()
    got = [oc.obj._moId for oc in src._retrieve(object(), "read")]
    assert got == ["a", "b", "c", "d"]
    assert pc.calls == [("first", 2), ("continue", "t1"), ("continue", "t2")]


def test_credentials_come_from_env_or_file_never_repr(tmp_path):
    creds = vsphere.credentials(environ={"VSPHERE_USER": "admin", "VSPHERE_PASSWORD": "pw-123"})
    assert creds.user == "admin" and "pw-123" not in repr(creds)
    f = tmp_path / "creds.yaml"
    f.write_text("user: svc\npassword: from-file\n")
    assert vsphere.credentials(f, environ={}).password == "from-file"
    f.write_text("user: svc\n")
    with pytest.raises(UsageError, match="needs `user:` and `password:`"):
        vsphere.credentials(f, environ={})
    with pytest.raises(UsageError, match="VSPHERE_USER and VSPHERE_PASSWORD"):
        vsphere.credentials(None, environ={})


def test_url_must_be_http_or_https():
    with pytest.raises(UsageError, match="not a vCenter URL"):
        vsphere.VSphereSource("vc.example.com", vsphere.Credentials("u", "p"))


def test_progress_shows_counts_and_rate_only_on_a_terminal(capsys):
    vsphere._Progress(enabled=True).update("read the inventory", 2000)
    err = capsys.readouterr().err
    assert "read the inventory: 2000 objects (" in err and "/s)" in err
    vsphere._Progress(enabled=None).update("read the inventory", 2000)  # pytest's stderr is not a tty
    assert capsys.readouterr().err == ""


def test_disk_facts_from_the_devices():
    """Shared (multi-writer), RDM and independent disks, read from real pyVmomi objects."""
    from pyVmomi import vim

    from compiler.inventory.model import VM
    flat = vim.vm.device.VirtualDisk.FlatVer2BackingInfo
    devices = [
        vim.vm.device.ParaVirtualSCSIController(key=1000, busNumber=0),
        vim.vm.device.VirtualDisk(key=2000, controllerKey=1000, capacityInBytes=1 << 30,
                                  backing=flat(fileName="[ds] a/a.vmdk", diskMode="persistent",
                                               sharing="sharingMultiWriter")),
        vim.vm.device.VirtualDisk(key=2001, controllerKey=1000, capacityInBytes=2 << 30,
                                  backing=flat(fileName="[ds] a/b.vmdk", diskMode="independent_persistent",
                                               sharing="sharingNone")),
        vim.vm.device.VirtualDisk(key=2002, controllerKey=1000, capacityInKB=1024,
                                  backing=vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo(
                                      fileName="[ds] a/rdm.vmdk", diskMode="persistent")),
    ]
    vm = vsphere_records.with_details(VM("vm-1", "a"), {"config.hardware.device": devices}, {})
    facts = [(d.key, d.shared, d.rdm, d.mode, d.bus, d.capacity) for d in vm.disks]
    assert facts == [("2000", True, False, "persistent", "scsi", 1 << 30),
                     ("2001", False, False, "independent_persistent", "scsi", 2 << 30),
                     ("2002", False, True, "persistent", "scsi", 1 << 20)]


@pytest.mark.parametrize("raw,shown", [
    ("web%2f01", "web/01"), ("a%5Cb", "a\\b"), ("100%25", "100%"), ("caf%C3%A9", "café"),
    ("plain name", "plain name"), ("a+b", "a+b"),                 # PathUnescape keeps '+'
    ("caf%e9", "caf\ufffd"),                                       # a byte that is not UTF-8: shown replaced
    ("100%", "100%"), ("x%zz%2f", "x%zz%2f"),                      # a malformed escape: Go returns an error,
])                                                                 # Forklift keeps the name as it came
def test_names_are_unescaped_as_gos_path_unescape_does(raw, shown):
    assert vsphere_records.unescaped(raw) == shown


@pytest.mark.parametrize("facts,ghost", [
    ({}, True), ({"uuid": "4201"}, False), ({"instance_uuid": "5001"}, False), ({"host": "host-1"}, False),
])
def test_a_vm_without_uuids_or_host_is_a_ghost_as_forklift_says(facts, ghost):
    from compiler.inventory.model import VM
    assert vsphere_records.is_ghost(VM(id="vm-1", name="x", **facts)) is ghost


def test_paths_end_at_a_parent_cycle_instead_of_recursing_forever():
    """vCenter never answers with a cycle of parents, but a path walk must not trust that."""
    from pyVmomi import vim

    class Ref:
        def __init__(self, moid):
            self._moId = moid

    objects = {"group-a": (vim.Folder, {"name": "a", "parent": Ref("group-b")}),
               "group-b": (vim.Folder, {"name": "b", "parent": Ref("group-a")}),
               "vm-1": (vim.VirtualMachine, {"name": "x", "parent": Ref("group-a")})}
    paths = vsphere_records.paths(objects)
    assert paths["vm-1"].endswith("/a/x") and paths["vm-1"].count("/") <= 67
