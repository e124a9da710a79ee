"""Inventory snapshot files: YAML and JSON read the same, YAML through libyaml, and a
hostile snapshot is refused with a message rather than a crash or a memory blow-up."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import msgspec
import pytest
import yaml

import sitekit
from compiler.errors import InventoryError
from compiler.inventory.snapshot import SnapshotFile

from compiler import yamlio

from conftest import BUNDLED  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("site", BUNDLED)
def test_yaml_and_json_snapshots_give_the_same_inventory(tmp_path, site):
    src = REPO / "sites" / site / "inventory.yaml"
    ptype = yaml.safe_load(src.read_text())["provider"]["type"]
    as_json = tmp_path / "inventory.json"
    # the marked loader is the reference: YAML 1.2 booleans, every key kept
    as_json.write_text(json.dumps(yamlio.plain(yamlio.load_marked(src.read_text(), str(src)))))
    from_yaml, from_json = SnapshotFile(src, ptype).snapshot(), SnapshotFile(as_json, ptype).snapshot()
    # the file name differs, nothing else may
    assert msgspec.structs.replace(from_json, provider=from_yaml.provider) == from_yaml
    assert from_json.provider.identity == from_yaml.provider.identity


def test_yaml_snapshot_keeps_yaml_1_2_booleans(tmp_path):
    f = tmp_path / "inventory.yaml"
    f.write_text("provider: {type: vsphere}\nvms:\n- {id: vm-1, name: yes, path: /DC/vm/yes, host: on}\n")
    inv = SnapshotFile(f, "vsphere").snapshot()
    assert [vm.name for vm in inv.vms.values()] == ["yes"]


def test_alias_bomb_in_a_snapshot_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("compiler.inventory.snapshot.SNAPSHOT_MAX_NODES", 10_000)
    rows = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 9))
    f = tmp_path / "inventory.yaml"
    f.write_text("provider: {type: vsphere}\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + rows + "vms: []\n")
    with pytest.raises(InventoryError, match="expands to more than 10,000 values"):
        SnapshotFile(f, "vsphere").snapshot()


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, "".join(" " * i + "a:\n" for i in range(3000)) + "  x"])
def test_deep_nesting_in_a_snapshot_is_an_error_not_a_crash(tmp_path, text):
    f = tmp_path / "inventory.yaml"
    f.write_text(text)
    with pytest.raises(InventoryError, match="nests deeper than 50 levels|maximum nesting depth") as caught:
        SnapshotFile(f, "vsphere").snapshot()
    assert caught.value.where.line == (1 if text.startswith("[") else 51)     # where the nesting goes too deep


def test_a_value_yaml_reads_as_a_number_is_refused_at_lock_time(tmp_path):
    """An unquoted MAC like 10:20:30:40:50:59 is a base-60 number to YAML 1.1: locked, it would
    make a lock that `mtvgen build` refuses. The snapshot reader says so and names the VM."""
    src = REPO / "sites" / "dc1" / "inventory.yaml"
    text = src.read_text()
    nic = next(line for line in text.splitlines() if "network: {kind:" in line and "mac:" in line)
    mac = nic.split("mac:")[1].split(",")[0].strip()
    bad = tmp_path / "inventory.yaml"
    bad.write_text(text.replace(nic, nic.replace(mac, "10:20:30:40:50:59"), 1))
    with pytest.raises(InventoryError, match=r"VM '[^']+' has a value of the wrong type: Expected `str`, got `int` "
                                             r"- at `\$\.nics\[\d+\]\.mac`") as caught:
        SnapshotFile(bad, "vsphere").snapshot()
    # located at the VM it names: the line of its list item, the `id:` line in the bundled file
    vm_id = caught.value.what.split("VM '")[1].split("'")[0]
    assert text.splitlines()[caught.value.where.line - 1].strip() in (f"- id: {vm_id}", f"- {{id: {vm_id},")


@pytest.mark.parametrize("site", BUNDLED)
def test_a_snapshot_of_the_wrong_shape_is_an_error_not_a_crash(tmp_path, site):
    """Any one value of a bundled snapshot replaced by a value of another type (a list where an
    object belongs, None, a number where text belongs...) gives an InventoryError naming the
    file, never a crash. Before, 42 kinds of such changes raised AttributeError (exit 3)."""
    base = yaml.safe_load((REPO / "sites" / site / "inventory.yaml").read_text())
    ptype = base["provider"]["type"]
    paths = []

    def walk(node, prefix=()):
        paths.append(prefix)
        children = node.items() if isinstance(node, dict) else enumerate(node[:3]) if isinstance(node, list) else ()
        for key, value in children:
            walk(value, (*prefix, key))

    walk(base)
    rnd = random.Random(site)
    values = ["", "x", 0, 1.5, True, None, [], {}, [1], {"a": 1}, "10:20", [{"id": "x"}], {"id": 1}]
    target = tmp_path / "inventory.json"
    for _ in range(300):
        doc, path = copy.deepcopy(base), rnd.choice(paths[1:])
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = rnd.choice(values)
        target.write_text(json.dumps(doc))
        try:
            SnapshotFile(target, ptype).snapshot()
        except InventoryError as exc:
            assert exc.where.file == str(target), exc


def test_nesting_past_50_levels_is_refused_with_or_without_anchors(tmp_path):
    """README "Limits": 50 levels for snapshots too. The fast path (no anchors) let libyaml go
    to its own 1,000 before."""
    f = tmp_path / "inventory.yaml"
    for anchor in ("", "&a "):
        f.write_text("provider: {type: vsphere}\nvms: " + anchor + "[" * 60 + "]" * 60 + "\n")
        with pytest.raises(InventoryError, match="nests deeper than 50 levels"):
            SnapshotFile(f, "vsphere").snapshot()


def _lines_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_snapshot_errors_name_the_line(tmp_path, suffix):
    """The fast readers keep no line marks; an error still points at the line to fix (the
    file is walked again on the error path only)."""
    inv = sitekit.inventory()
    cases = {
        "a VM that is a list": (lambda d: d["vms"].insert(1, ["vm-x"]), "item 1 is a list", '"vm-x"'),
        "a VM without its name": (lambda d: d["vms"][1].pop("name"), "lacks its required field 'name'", '"vm-2"'),
        "a MAC of the wrong type": (lambda d: d["vms"][1]["nics"][0].update(mac=42), "VM 'vm-2'", '"vm-2"'),
        "another provider": (lambda d: d["provider"].update(type="ova"), "for provider type 'ova'", '"ova"'),
    }
    for case, (change, words, needle) in cases.items():
        doc = copy.deepcopy(inv)
        change(doc)
        text = json.dumps(doc, indent=2)
        f = tmp_path / f"inventory{suffix}"
        f.write_text(text if suffix == ".json" else yaml.safe_dump(json.loads(text), default_flow_style=None,
                                                                    sort_keys=False, default_style='"'))
        with pytest.raises(InventoryError, match=words) as caught:
            SnapshotFile(f, "vsphere").snapshot()
        written = f.read_text()
        line = _lines_of(written, needle)
        assert caught.value.where.file == str(f) and caught.value.where.line in (line - 1, line), (case, caught.value)


def test_a_snapshot_that_is_not_json_names_the_line_and_column(tmp_path):
    f = tmp_path / "inventory.json"
    f.write_text('{"provider": {"type": "vsphere"},\n "vms": [1,]}\n')
    with pytest.raises(InventoryError, match="not valid JSON") as caught:
        SnapshotFile(f, "vsphere").snapshot()
    assert (caught.value.where.line, caught.value.where.col) == (2, 12)


def test_a_snapshot_that_is_not_utf8_names_the_byte(tmp_path):
    f = tmp_path / "inventory.yaml"
    f.write_bytes(b"provider: {type: vsphere}\nvms:\n  - {id: vm-1, name: caf\xe9}\n")
    with pytest.raises(InventoryError, match="not UTF-8") as caught:
        SnapshotFile(f, "vsphere").snapshot()
    assert (caught.value.where.line, caught.value.where.col) == (3, 25)
