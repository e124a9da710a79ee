"""`mtvgen inventory` (issue 25 item 4): what a source holds, a selector's preview that
chooses what `select:` would, and a snapshot saved for offline locks that reads back
to the very inventory it was written from."""

from __future__ import annotations

import json

import msgspec
import pytest
import yaml

from compiler import lock as lockmod, spec
from compiler.inventory.snapshot import SnapshotFile
from conftest import ROOT, run


def inventory(repo, *args):
    return run(["inventory", *args], repo)


def test_vms_with_the_facts_the_checks_use(repo):
    r = inventory(repo, "sites/dc1", "--inventory", "sites/dc1/inventory.yaml", "-o", "json")
    assert r.exit_code == 0, r.output
    rows = {v["path"]: v for v in json.loads(r.stdout)}
    db = rows["/DC1/vm/Production/DB/DB 01"]
    assert rows["/DC2/vm/DB 01"]["name"] == "DB 01"            # the same name in another datacenter
    assert (db["power"], db["guest"], db["disks"], db["diskGiB"], db["cbt"]) == \
        ("poweredOn", "rhel9_64Guest", 2, 600.0, True)
    assert sorted(db["networks"]) == ["Backup", "DPG-App 100"] and db["datastores"] == ["ds-gold-01"]
    table = inventory(repo, "sites/dc1", "--inventory", "sites/dc1/inventory.yaml").stdout
    assert table.splitlines()[0].split() == ["name", "path", "power", "guest", "disks", "diskGiB", "datastores",
                                             "networks", "cbt", "snapshot", "concerns"]


def test_a_selector_preview_chooses_what_the_plan_selects(repo):
    site = spec.load(repo / "sites/dc1")
    plan = next(p for p in site.spec_plans if p.name == "databases")
    assert [s.criteria for s in plan.select] == [{"folder": "/DC1/vm/Production/DB"}]
    r = inventory(repo, "sites/dc1", "--inventory", "sites/dc1/inventory.yaml", "-o", "json",
                  "--select", "{folder: /DC1/vm/Production/DB}")
    rows = json.loads(r.stdout)
    previewed = {v["id"] for v in rows}
    lock = lockmod.read(site)
    excluded = {v["id"] for v in rows if v["name"].endswith("-old")}
    assert excluded                  # the plan selects the folder, then excludes `*-old`: the preview is its select
    assert previewed - excluded == set(lock.plans["databases"]) and excluded <= previewed


def test_a_bad_selector_is_named_with_the_keys_a_selector_takes(repo):
    r = inventory(repo, "sites/dc1", "--inventory", "sites/dc1/inventory.yaml", "--select", "{folda: /x}")
    assert r.exit_code == 2
    assert "--select #1: error: --select '{folda: /x}' is not a selector: Additional properties are not allowed " \
           "('folda' was unexpected)" in r.stderr and "a YAML mapping of: name, id, path, glob" in r.stderr
    r = inventory(repo, "sites/dc1", "--inventory", "sites/dc1/inventory.yaml", "--select", "{glob: 'zz*'}")
    assert r.exit_code == 0 and "warning[MTV011]: glob 'zz*' matches no VM" in r.stderr


def test_the_lock_lists_what_the_site_uses(repo):
    r = inventory(repo, "sites/dc1", "networks", "--lock", "-o", "yaml")
    assert r.exit_code == 0, r.output
    nets = {n["name"]: n["vms"] for n in yaml.safe_load(r.stdout)}
    lock = lockmod.read(spec.load(repo / "sites/dc1"))
    assert set(nets) == {n.name for n in lock.networks.values()}
    assert sum(nets.values()) == sum(len(v.network_ids) for v in lock.vms.values())


@pytest.mark.parametrize("site", ["dc1", "factory"])
def test_a_saved_snapshot_reads_back_to_the_same_inventory_and_lock(repo, site):
    src = repo / "sites" / site / "inventory.yaml"
    saved = repo / f"{site}-saved.yaml"
    r = inventory(repo, f"sites/{site}", "folders", "--inventory", str(src), "--save", str(saved))
    assert r.exit_code == 0, r.output
    before, after = SnapshotFile(src, "vsphere").snapshot(), SnapshotFile(saved, "vsphere").snapshot()
    assert msgspec.to_builtins(after.vms) == msgspec.to_builtins(before.vms)
    assert (after.networks, after.datastores, after.hosts) == (before.networks, before.datastores, before.hosts)
    committed = (repo / "sites" / site / "mtvgen.lock").read_text()
    assert run(["lock", f"sites/{site}", "--inventory", str(saved)], repo).exit_code == 0
    locked = json.loads((repo / "sites" / site / "mtvgen.lock").read_text())
    expected = json.loads(committed)
    for k in ("vms", "plans", "maps", "networks", "datastores", "batches"):
        assert locked.get(k) == expected.get(k), k


def test_save_of_a_source_read_through_forklift_says_where_its_snapshot_is(repo):
    other = next(p.parent.name for p in sorted((ROOT / "sites").glob("*/inventory.yaml"))
                 if yaml.safe_load(p.read_text())["provider"]["type"] != "vsphere")
    r = inventory(repo, f"sites/{other}", "--inventory", f"sites/{other}/inventory.yaml", "--save", "x.yaml")
    assert r.exit_code == 2 and "--save writes vSphere inventories" in r.stderr
    assert not (repo / "x.yaml").exists()


def test_the_readme_example_is_real_output(repo):
    text = (ROOT / "README.md").read_text()
    block = text.split("## Looking at the inventory", 1)[1].split("```\n", 1)[1].split("```", 1)[0]
    command, *shown = block.splitlines()
    import shlex
    r = inventory(repo, *shlex.split(command.removeprefix("$ mtvgen inventory ")))
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() + r.stderr.splitlines() == shown
