"""The ledger of moved VMs (issue 21 item 2): written by `done` from what the cluster says
succeeded, never from intent; read by every lock and build of every site: a pattern
skips a moved VM and says how many, naming one is an error unless `remigrate:`, a lock
that still holds one is an error, and two sites selecting one VM is an error."""

from __future__ import annotations

import json
import shutil

import yaml

import sitekit
from conftest import NOW, run
from sitekit import BASE_SPEC, vm
from test_running_plans import _status, build, lock_of, relock, started_site


def _done_with_facts(tmp_path, outcomes):
    d = started_site(tmp_path)
    facts = tmp_path / "status.json"
    doc = json.loads(_status("t", "wave1", outcomes))
    doc["sites"][0]["plans"][0]["migration"] = "t-wave1-1"
    facts.write_text(json.dumps(doc))
    r = run(["done", "sites/t", "wave1", "--status", str(facts)], tmp_path)
    assert r.exit_code == 0, r.output
    return d, r


def test_done_records_what_the_cluster_says_succeeded(tmp_path):
    d, r = _done_with_facts(tmp_path, {"vm-1": "Succeeded", "vm-2": "Failed"})
    assert "1 VM(s) recorded as moved in" in r.stderr and "ledger.yaml (1 new)" in r.stderr
    text = (tmp_path / "sites/ledger.yaml").read_text()
    lines = [line for line in text.splitlines() if line.startswith("  - ")]
    assert lines == ['  - {source: "vsphere:test-uuid", id: "vm-1", name: "vm-1", namespace: "apps", '
                     f'target: "alpha", plan: "t/wave1", migration: "t-wave1-1", date: "{lines[0].split("date: ")[1][1:11]}"}}']
    # offline `done` (no facts) records nothing: intent is not a move
    d2 = tmp_path / "other"
    d2.mkdir()
    site = sitekit.make(d2, BASE_SPEC.replace("wave1", "w") + "    start: true\n", sitekit.inventory(vms=[vm("vm-9", "x")]))
    assert run(["lock", "sites/t", "--inventory", "sites/t/inventory.yaml"], d2).exit_code == 0
    r = run(["done", "sites/t", "w"], d2)
    assert r.exit_code == 0 and not (d2 / "sites/ledger.yaml").exists()
    assert site.exists()


def test_a_moved_vm_is_skipped_by_patterns_refused_by_name_and_taken_back_by_remigrate(tmp_path):
    d, _ = _done_with_facts(tmp_path, {"vm-1": "Succeeded", "vm-2": "Succeeded"})
    spec = d / "site.yaml"
    text = spec.read_text()
    # a new plan over the same folder: both VMs moved, skipped, and said so
    spec.write_text(text + "  - name: again\n    select:\n      - folder: /DC/vm/prod\n")
    r = relock(d)
    assert r.exit_code == 1 and "MTV015" in r.stderr       # nothing left to select: the plan is empty
    spec.write_text(text + "  - name: again\n    select:\n      - folder: /DC/vm/prod\n      - name: gamma\n")
    r = relock(d, sitekit.inventory(vms=[vm("vm-1", "alpha"), vm("vm-2", "beta"), vm("vm-3", "gamma")]))
    assert r.exit_code == 0, r.output
    assert "plan again: 2 VM(s) skipped, already moved (" in r.stderr
    assert lock_of(d)["plans"]["again"] == ["vm-3"]
    # named: an error, with the plan and the date it moved
    spec.write_text(text + "  - name: again\n    select:\n      - name: alpha\n")
    r = relock(d)
    assert r.exit_code == 1
    assert "error[MTV153]: VM 'alpha' (vm-1) has already moved: plan t/wave1 migrated it to apps/alpha on " in r.stderr
    # remigrate: taken back on purpose
    spec.write_text(text + "  - name: again\n    select:\n      - name: alpha\n    remigrate: [alpha]\n")
    assert relock(d).exit_code == 0 and lock_of(d)["plans"]["again"] == ["vm-1"]
    assert build(tmp_path).exit_code == 0


def test_a_lock_older_than_the_ledger_is_refused_by_the_build(tmp_path):
    d = sitekit.make(tmp_path, BASE_SPEC, sitekit.inventory())
    assert relock(d).exit_code == 0
    (tmp_path / "sites/ledger.yaml").write_text(
        'moved:\n  - {source: "vsphere:test-uuid", id: "vm-1", name: "alpha", namespace: "apps", target: "alpha", '
        'plan: "other/p", migration: "other-p-1", date: "2026-12-01"}\n')
    r = build(tmp_path)
    assert r.exit_code == 1
    assert "error[MTV153]: VM 'alpha' (vm-1): has already moved: plan other/p migrated it to apps/alpha on " \
           "2026-12-01 (other-p-1)" in r.stderr


def test_a_broken_ledger_names_its_line(tmp_path):
    d = sitekit.make(tmp_path, BASE_SPEC, sitekit.inventory())
    (tmp_path / "sites/ledger.yaml").write_text("moved:\n  - {id: vm-1}\n")
    r = run(["check", "sites/t"], tmp_path)
    assert r.exit_code == 1 and "sites/ledger.yaml:2:5: error" in r.output and "entry 1 is not a moved VM" in r.output
    assert d.exists()


def test_two_sites_selecting_one_vm_is_an_error_across_the_repository(tmp_path):
    d = sitekit.make(tmp_path, BASE_SPEC, sitekit.inventory())
    assert relock(d).exit_code == 0
    other = tmp_path / "sites" / "u"
    shutil.copytree(d, other)
    (other / "site.yaml").write_text(BASE_SPEC.replace("targetNamespace: apps", "targetNamespace: apps2"))
    assert run(["lock", "sites/u", "--inventory", "sites/u/inventory.yaml"], tmp_path).exit_code == 0
    r = build(tmp_path)
    assert r.exit_code == 1
    assert "error[MTV154]: VM 'alpha' (vm-1) is in plan 'wave1' of site 'u' and in plan 'wave1' of site 't'" in r.stderr


def test_the_summary_counts_what_moved(tmp_path):
    d, _ = _done_with_facts(tmp_path, {"vm-1": "Succeeded", "vm-2": "Failed"})
    assert build(tmp_path).exit_code == 0
    text = run(["summary", "sites/t", "--now", NOW], tmp_path).stdout
    assert "Ledger: 1 VM(s) moved by this site, 0 planned in plans that have not run." in text
    assert d.exists() and yaml.safe_load((tmp_path / "sites/ledger.yaml").read_text())["moved"][0]["id"] == "vm-1"


def test_what_is_left_in_the_selected_folders_is_counted(tmp_path):
    d, _ = _done_with_facts(tmp_path, {"vm-1": "Succeeded", "vm-2": "Succeeded"})
    spec = d / "site.yaml"
    # a second plan over the folder, one VM excluded: moved VMs and templates are not "left"
    spec.write_text(spec.read_text() + "  - name: rest\n    select:\n      - folder: /DC/vm/prod\n"
                    "    exclude:\n      - name: delta\n")
    vms = [vm("vm-1", "alpha"), vm("vm-2", "beta"), vm("vm-3", "gamma"), vm("vm-4", "delta"),
           vm("vm-5", "golden", isTemplate=True)]
    r = relock(d, sitekit.inventory(vms=vms))
    assert r.exit_code == 0, r.output
    assert lock_of(d)["left"] == {"/DC/vm/prod": 1}                  # delta: excluded, not moved, in no plan
    assert build(tmp_path).exit_code == 0
    text = run(["summary", "sites/t", "--now", NOW], tmp_path).stdout
    assert "Ledger: 2 VM(s) moved by this site, 1 planned in plans that have not run, 1 left in the selected " \
           "folders in no plan." in text
