"""A running plan is safe from Git (issue 23): the README's wave story made hostile.
Start a warm plan; re-lock under drift; cancel a VM; retry; rename, delete, un-start and
archive it mid-run; a second engineer's suppress. At each step the build delivers what
the operator meant or refuses with a located error, and nothing that runs is orphaned,
duplicated or destroyed."""

from __future__ import annotations

import json

import pytest
import yaml

import sitekit
from compiler import check, lock as lockmod, spec
from conftest import NOW, run
from sitekit import BASE_SPEC, vm

WARM = BASE_SPEC.replace("    preHook: prep", "    preHook: prep\n    type: warm")
FUTURE = "2027-01-09T22:00:00+01:00"


def inventory(*vms):
    return sitekit.inventory(vms=list(vms) or [vm("vm-1", "alpha"), vm("vm-2", "beta")])


def relock(d, inv=None):
    if inv is not None:
        (d / "inventory.yaml").write_text(yaml.safe_dump(inv, sort_keys=False))
    return run(["lock", "sites/t", "--inventory", "sites/t/inventory.yaml"], d.parent.parent)


def lock_of(d) -> dict:
    return json.loads((d / "mtvgen.lock").read_text())


def build(root, *extra):
    return run(["build", "--now", NOW, *extra], root)


def started_site(tmp_path):
    d = sitekit.make(tmp_path, WARM, inventory())
    assert relock(d).exit_code == 0
    r = run(["start", "sites/t", "wave1", "--cutover", FUTURE], tmp_path)
    assert r.exit_code == 0, r.output
    return d


def test_start_pins_the_plan_in_the_lock_offline(tmp_path):
    d = started_site(tmp_path)
    pin = lock_of(d)["started"]["wave1"]
    assert pin["attempt"] == 1 and pin["since"] < FUTURE
    assert build(tmp_path).exit_code == 0


def test_a_relock_under_drift_keeps_the_running_plan_as_it_started_and_says_what_moved(tmp_path):
    d = started_site(tmp_path)
    before = lock_of(d)
    snap = {"kind": "VirtualMachineSnapshot", "id": "snapshot-7"}          # Forklift's own precopy snapshot
    drifted = inventory(vm("vm-1", "alpha-renamed", snapshot=snap), vm("vm-2", "beta", folder="/DC/vm/elsewhere"),
                        vm("vm-3", "gamma"))                                  # gamma is new in the plan's folder
    r = relock(d, drifted)
    assert r.exit_code == 0, r.output
    after = lock_of(d)
    assert after["plans"]["wave1"] == ["vm-1", "vm-2"] and after["vms"] == before["vms"]
    assert "running plan wave1: VM vm-1 'alpha' is now 'alpha-renamed' (not applied" in r.stderr
    assert "running plan wave1: VM vm-2 'beta' moved from /DC/vm/prod to /DC/vm/elsewhere (not applied" in r.stderr
    r = build(tmp_path)                     # the snapshot is the run's business: the build goes through
    assert r.exit_code == 0, r.output
    text = (tmp_path / "out/t/plans/wave1/plan/plan-t-wave1.yaml").read_text()
    assert [v["id"] for v in yaml.safe_load(text)["spec"]["vms"]] == ["vm-1", "vm-2"] and "renamed" not in text


def test_a_vm_deleted_on_the_source_does_not_fail_the_lock_of_its_running_plan(tmp_path):
    d = started_site(tmp_path)
    r = relock(d, inventory(vm("vm-1", "alpha")))
    assert r.exit_code == 0, r.output
    assert lock_of(d)["plans"]["wave1"] == ["vm-1", "vm-2"]
    assert "VM vm-2 'beta' is gone from the source; kept as it started" in r.stderr


def test_renaming_or_deleting_a_running_plan_is_refused_until_someone_answers_for_it(tmp_path):
    d = started_site(tmp_path)
    text = (d / "site.yaml").read_text()
    plans_line = text.splitlines().index("  - name: wave1") + 1       # where `plans:` holds its list
    for edited in (text.replace("  - name: wave1", "  - name: wave-one"),                   # a rename
                   text.replace("  - name: wave1", "  - name: other\n    select: [{name: nothing}]\n"
                                "  - name: gone").split("  - name: gone")[0]):            # a removal
        (d / "site.yaml").write_text(edited)
        before = (d / "mtvgen.lock").read_bytes()
        r = relock(d)
        assert r.exit_code == 1, r.output
        assert f"sites/t/site.yaml:{plans_line}:3: error[MTV126]: plan 'wave1' is running (pinned in the lock) and " \
               "is gone from site.yaml: its Plan and Migration keep running with no owner in Git\n  help: put plan " \
               "'wave1' back (a rename is a removal and a new plan); to end the run: `mtvgen cancel sites/t wave1 " \
               "--all`, then `mtvgen done sites/t wave1`" in r.stderr
        assert (d / "mtvgen.lock").read_bytes() == before                     # the pin is not forgotten
    (d / "site.yaml").write_text(text.replace("  - name: wave1", "  - name: wave-one") +
                                 "acknowledge:\n  - {code: MTV126, plan: wave1, reason: 'run canceled by hand, CHG-42'}\n")
    r = relock(d)
    assert r.exit_code == 0, r.output
    assert "acknowledged error[MTV126]" in r.stderr and "CHG-42" in r.stderr
    assert list(lock_of(d)["started"]) == ["wave-one"]


def test_a_running_plan_that_loses_its_start_is_an_error(tmp_path):
    d = started_site(tmp_path)
    text = (d / "site.yaml").read_text()
    (d / "site.yaml").write_text(text.split("    start:")[0])
    r = build(tmp_path)
    assert r.exit_code == 1 and "error[MTV128]: plan 'wave1' is running (pinned in the lock) and has no `start:`" \
        in r.stderr


def test_archiving_a_run_that_has_not_ended_is_refused_and_can_be_acknowledged(tmp_path):
    d = started_site(tmp_path)
    text = (d / "site.yaml").read_text()
    r = run(["archive", "sites/t", "wave1"], tmp_path)
    assert r.exit_code == 1 and "error[MTV127]" in r.stderr and (d / "site.yaml").read_text() == text
    (d / "site.yaml").write_text(text.replace("    type: warm", "    type: warm\n    archived: true") +
                                 "acknowledge:\n  - {code: MTV127, plan: wave1, reason: 'test VMs, PVCs may go'}\n")
    r = build(tmp_path)
    assert r.exit_code == 0, r.output
    assert "acknowledged error[MTV127]" in r.stderr and "test VMs, PVCs may go" in r.stderr
    assert "1 acknowledged" in r.stderr


def test_retry_keeps_the_held_back_vms_and_refuses_a_cutover_already_past(tmp_path):
    d = started_site(tmp_path)
    assert run(["cancel", "sites/t", "wave1", "beta"], tmp_path).exit_code == 0
    r = run(["retry", "sites/t", "wave1"], tmp_path)
    assert r.exit_code == 0, r.output
    start = yaml.safe_load((d / "site.yaml").read_text())["plans"][0]["start"]
    assert start == {"cutover": FUTURE, "cancel": ["beta"], "attempt": 2}
    assert lock_of(d)["started"]["wave1"]["attempt"] == 2                  # pinned again for the new attempt
    text = (d / "site.yaml").read_text()
    (d / "site.yaml").write_text(text.replace(FUTURE, "2026-01-01T00:00:00+00:00"))
    r = run(["retry", "sites/t", "wave1"], tmp_path)                       # attempt 3 would cut over at once
    assert r.exit_code == 1 and "error[MTV095]" in r.stderr and "--cutover now" in r.stderr
    r = run(["retry", "sites/t", "wave1", "--cutover", "now"], tmp_path)
    assert r.exit_code == 0, r.output
    start = yaml.safe_load((d / "site.yaml").read_text())["plans"][0]["start"]
    assert start["attempt"] == 3 and start["cutover"] == lock_of(d)["started"]["wave1"]["since"]


def test_suppressing_an_error_says_it_cannot(tmp_path):
    spec_text = WARM + "suppress:\n  - {code: MTV127, reason: 'nobody reads this'}\n  - {code: MTV043, reason: 'nor this'}\n"
    d = sitekit.make(tmp_path, spec_text, inventory())
    assert relock(d).exit_code == 0
    site = spec.load(d)
    found = [x for x in check.run(site, lockmod.read(site)) if x.code == "MTV129"]
    first = spec_text.splitlines().index("suppress:") + 2
    assert [(x.location.line, "acknowledge:" in x.help) for x in found] == [(first, True), (first + 1, False)]
    r = build(tmp_path)
    assert r.exit_code == 0 and "warning[MTV129]: suppress: MTV127 is an error" in r.stderr


def test_a_done_plan_freezes_its_effective_settings_and_its_vms(tmp_path):
    """Editing only the site's defaults rewrote a done Plan with no error, and a merge that
    changed a frozen plan's VMs in the lock went green: the freeze hashed the plan's own
    YAML only."""
    d = sitekit.make(tmp_path, BASE_SPEC.replace("plans:\n", "defaults:\n  targetPowerState: auto\nplans:\n", 1)
                     + "    start: true\n", inventory())
    assert relock(d).exit_code == 0
    assert run(["done", "sites/t", "wave1"], tmp_path).exit_code == 0
    assert lock_of(d)["frozen"]["wave1"].startswith("effective:sha256:")
    assert build(tmp_path).exit_code == 0
    text = (d / "site.yaml").read_text()
    (d / "site.yaml").write_text(text.replace("targetPowerState: auto", "targetPowerState: 'on'"))
    r = build(tmp_path)
    assert r.exit_code == 1 and "error[MTV093]: plan 'wave1' is done and was edited since" in r.stderr
    (d / "site.yaml").write_text(text)
    lock = lock_of(d)
    lock["plans"]["wave1"] = ["vm-1"]                          # another branch's lock, merged
    (d / "mtvgen.lock").write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")
    r = build(tmp_path)
    assert r.exit_code == 1 and "error[MTV093]" in r.stderr


def test_a_lock_frozen_before_effective_digests_still_holds(tmp_path):
    from compiler import lifecycle
    d = sitekit.make(tmp_path, BASE_SPEC + "    start: true\n    done: true\n", inventory())
    assert relock(d).exit_code == 0
    lock = lock_of(d)
    plan = next(p for p in spec.load(d).spec_plans if p.name == "wave1")
    lock["frozen"]["wave1"] = lifecycle.plan_digest(plan)       # the digest older locks hold
    (d / "mtvgen.lock").write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")
    assert build(tmp_path).exit_code == 0


def _status(site: str, plan: str, outcomes: dict[str, str]) -> str:
    vms = [{"id": i, "name": i, "outcome": o} for i, o in outcomes.items()]
    return json.dumps({"sites": [{"site": site, "plans": [{"plan": plan, "vms": vms}]}]})


def test_done_from_the_runs_facts_refuses_a_run_that_has_not_ended_and_frees_what_it_left(tmp_path):
    d = started_site(tmp_path)
    facts = tmp_path / "status.json"
    facts.write_text(_status("t", "wave1", {"vm-1": "Succeeded", "vm-2": "Running"}))
    before = (d / "site.yaml").read_text()
    r = run(["done", "sites/t", "wave1", "--status", str(facts)], tmp_path)
    assert r.exit_code == 2 and "plan 'wave1' is not done on the cluster: 1 VM(s) still running" in r.stderr
    assert (d / "site.yaml").read_text() == before
    facts.write_text(_status("t", "wave1", {"vm-1": "Succeeded", "vm-2": "Failed"}))
    r = run(["done", "sites/t", "wave1", "--status", str(facts)], tmp_path)
    assert r.exit_code == 0, r.output
    assert lock_of(d)["released"] == {"wave1": ["vm-2"]}
    # the VM the done plan did not migrate can be selected by a new plan
    (d / "site.yaml").write_text((d / "site.yaml").read_text() + "  - name: wave2\n    select:\n      - name: beta\n")
    r = relock(d)
    assert r.exit_code == 0, r.output
    assert lock_of(d)["plans"]["wave2"] == ["vm-2"] and lock_of(d)["plans"]["wave1"] == ["vm-1", "vm-2"]
    assert build(tmp_path).exit_code == 0


def test_a_plan_named_like_a_batch_of_another_is_not_one(tmp_path):
    """`web-prod` is not a batch of `web`: a batched plan `web` that selects the running
    plan `web-prod`'s VM must be told the VM is taken (MTV014), not take it quietly."""
    spec_text = WARM.replace("  - name: wave1\n", "  - name: web-prod\n").replace(
        "      - folder: /DC/vm/prod\n", "      - name: beta\n    start: {cutover: '" + FUTURE + "'}\n"
        "  - name: web\n    batch: {maxVMs: 1}\n    select:\n      - name: alpha\n")
    d = sitekit.make(tmp_path, spec_text, inventory())
    assert relock(d).exit_code == 0, "setup"
    assert "web-prod" in lock_of(d)["started"]
    (d / "site.yaml").write_text(spec_text.replace("      - name: alpha\n", "      - folder: /DC/vm/prod\n"))
    r = relock(d)
    assert r.exit_code == 1 and "error[MTV014]: VM 'beta' (vm-2) is selected by plans 'web-prod (started)' and " \
        "'web'" in r.stderr


def _edited(d, old: str, new: str) -> None:
    text = (d / "site.yaml").read_text()
    assert old in text
    (d / "site.yaml").write_text(text.replace(old, new, 1))


def test_an_edit_of_a_running_plan_is_an_error_where_forklift_cancels_for_it(tmp_path):
    """Up to 2.11 the plan controller matches the run's snapshot of the Plan, maps and
    Providers by generation (snapshot.go): an edit cancels the run (reason Modified)."""
    d = sitekit.make(tmp_path, WARM.replace("targetNamespace: apps\n", "targetNamespace: apps\nforkliftVersion: '2.11.7'\n"),
                     inventory())
    assert relock(d).exit_code == 0
    assert run(["start", "sites/t", "wave1", "--cutover", FUTURE], tmp_path).exit_code == 0
    _edited(d, "    type: warm", "    type: warm\n    targetPowerState: on")
    r = build(tmp_path)
    plan_line = (d / "site.yaml").read_text().splitlines().index("  - name: wave1") + 1
    assert r.exit_code == 1
    assert f"site.yaml:{plan_line}:5: error[MTV130]: plan 'wave1' is running and its Plan changed since attempt 1 " \
        "started: Forklift 2.11.7 cancels the run" in r.stderr
    _edited(d, "    targetPowerState: on\n", "")
    _edited(d, "    target: app-net", "    target: other-net")                 # the site's network map
    r = build(tmp_path)
    assert r.exit_code == 1 and "its NetworkMap changed" in r.stderr
    (d / "site.yaml").write_text((d / "site.yaml").read_text() +
                                 "acknowledge:\n  - {code: MTV130, plan: wave1, reason: 'cancel it, wrong network'}\n")
    r = build(tmp_path)
    assert r.exit_code == 0, r.output
    assert "acknowledged error[MTV130]" in r.stderr and "cancel it, wrong network" in r.stderr


def test_what_does_not_touch_the_run_objects_is_no_edit_of_them(tmp_path):
    """A cutover, a cancel (the Migration) or a selector (the VMs are pinned) change no
    Plan, map or Provider; a retry is a new run that starts from the edited spec."""
    d = sitekit.make(tmp_path, WARM.replace("targetNamespace: apps\n", "targetNamespace: apps\nforkliftVersion: '2.11'\n"),
                     inventory())
    assert relock(d).exit_code == 0
    assert run(["start", "sites/t", "wave1", "--cutover", FUTURE], tmp_path).exit_code == 0
    assert run(["cancel", "sites/t", "wave1", "beta"], tmp_path).exit_code == 0
    _edited(d, "      - folder: /DC/vm/prod", "      - folder: /DC/vm/prod\n      - name: gamma")
    _edited(d, FUTURE, "2027-01-10T22:00:00+01:00")
    assert relock(d).exit_code == 0
    r = build(tmp_path)
    assert r.exit_code == 0, r.output
    assert "MTV130" not in r.stderr and "MTV131" not in r.stderr
    _edited(d, "    type: warm", "    type: warm\n    targetPowerState: on")
    assert "error[MTV130]" in build(tmp_path).stderr
    assert run(["retry", "sites/t", "wave1"], tmp_path).exit_code == 0        # attempt 2 runs with the edit
    r = build(tmp_path)
    assert r.exit_code == 0 and "MTV130" not in r.stderr


def test_on_releases_that_run_on_an_edit_of_a_running_plan_is_a_warning(tmp_path):
    d = started_site(tmp_path)                                  # no forkliftVersion: main
    _edited(d, "url: https://vc.example.com/sdk", "url: https://vc2.example.com/sdk")
    assert relock(d).exit_code == 0                              # the pin keeps its settings
    r = build(tmp_path)
    assert r.exit_code == 0, r.output
    assert "warning[MTV131]: plan 'wave1' is running and its source Provider changed since attempt 1 started: " \
        "Forklift main (d42511b) keeps the run going" in r.stderr


V2117 = WARM.replace("targetNamespace: apps\n", "targetNamespace: apps\nforkliftVersion: '2.11.7'\n")


@pytest.mark.parametrize("old, new, part", [
    ("plans:\n", "defaults:\n  targetPowerState: on\nplans:\n", "Plan"),                     # inherited
    ("    storageClass: standard", "    storageClass: fast", "StorageMap"),
    ("    target: app-net", "    target: other-net", "NetworkMap"),
    ("url: https://vc.example.com/sdk", "url: https://vc2.example.com/sdk", "source Provider"),
    ("plans:\n", "destination:\n  provider: other-host\nplans:\n", "destination Provider"),
])
def test_each_object_a_run_depends_on_is_watched(tmp_path, old, new, part):
    d = sitekit.make(tmp_path, V2117, inventory())
    assert relock(d).exit_code == 0
    assert run(["start", "sites/t", "wave1", "--cutover", FUTURE], tmp_path).exit_code == 0
    _edited(d, old, new)
    assert relock(d).exit_code == 0                      # a source change needs a new lock; the pin stays
    r = build(tmp_path)
    assert r.exit_code == 1
    found = [line for line in r.stderr.splitlines() if "[MTV130]" in line]
    assert len(found) == 1 and f"plan 'wave1' is running and its {part} changed since attempt 1" in found[0], r.stderr


def test_a_pin_from_before_run_settings_takes_them_at_the_next_lock_and_keeps_its_since(tmp_path):
    d = started_site(tmp_path)
    lock = lock_of(d)
    since = lock["started"]["wave1"]["since"]
    del lock["started"]["wave1"]["settings"]                          # as a lock of the last release wrote it
    (d / "mtvgen.lock").write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")
    assert relock(d).exit_code == 0
    pin = lock_of(d)["started"]["wave1"]
    assert pin["since"] == since and pin["attempt"] == 1 and set(pin["settings"]) == {
        "Plan", "NetworkMap", "StorageMap", "source Provider", "destination Provider"}
    assert build(tmp_path).exit_code == 0 and "MTV131" not in build(tmp_path).stderr


def test_every_running_plan_is_checked_and_each_finding_names_it_and_the_fix(tmp_path):
    two = V2117.replace("plans:\n", "plans:\n  - name: first\n    type: warm\n    select:\n      - name: beta\n", 1) \
        .replace("      - folder: /DC/vm/prod", "      - name: alpha")
    d = sitekit.make(tmp_path, two, inventory())
    assert relock(d).exit_code == 0
    for plan in ("first", "wave1"):
        assert run(["start", "sites/t", plan, "--cutover", FUTURE], tmp_path).exit_code == 0
    _edited(d, "    preHook: prep", "    preHook: prep\n    targetPowerState: on")      # wave1 only
    site = spec.load(d)
    found = [x for x in check.run(site, lockmod.read(site)) if x.code == "MTV130"]
    at = (d / "site.yaml").read_text().splitlines().index("  - name: wave1") + 1
    assert [(x.plan, x.location.line) for x in found] == [("wave1", at)]
    assert found[0].help == f"undo the edit until the run ends, then `mtvgen retry {site.shown_dir} wave1` to run " \
                            "with it; or acknowledge MTV130 to cancel on purpose"
    _edited(d, "forkliftVersion: '2.11.7'", "forkliftVersion: '2.12.0'")
    site = spec.load(d)
    [warned] = [x for x in check.run(site, lockmod.read(site)) if x.code == "MTV131"]
    assert (warned.plan, warned.location.line, warned.help) == (
        "wave1", at, f"`mtvgen retry {site.shown_dir} wave1` after this run if every VM must see it")
