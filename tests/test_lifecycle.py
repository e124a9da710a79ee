"""A plan's life, transition by transition, on the spec, the lock and the output:
batches, start, cancel, retry, resume, done (frozen), archive, retire, waves,
and the command-line edits that make each one a reviewable change."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

import sitekit
from compiler import check, lifecycle, lock as lockmod, spec
from conftest import NOW, ROOT, out_objects, run
from sitekit import BASE_SPEC, vm

ARGO = "delivery:\n  repoURL: https://git.example.com/m.git\n  argocd: {}\n"


def inventory(n: int, skip=()):
    vms = [vm(f"vm-{i}", f"app{i}") for i in range(1, n + 1) if i not in skip]
    return sitekit.inventory(vms=vms)


def relock(d, inv=None):
    if inv is not None:
        (d / "inventory.yaml").write_text(yaml.safe_dump(inv, sort_keys=False))
    return sitekit.lock(d)


def lock_of(d) -> dict:
    return json.loads((d / "mtvgen.lock").read_text())


def build(root):
    r = run(["build", "--now", NOW], root)
    assert r.exit_code == 0, r.output
    out = root / "out" / "t"
    return {p.relative_to(out).as_posix(): yaml.safe_load(p.read_text()) for p in out_objects(out)}


def diags(d, codes=None):
    site = spec.load(d)
    lock = lockmod.read(site)
    found = check.run(lifecycle.expand(site, lock), lock, now=__import__("datetime").datetime.fromisoformat(NOW))
    return [x for x in found if codes is None or x.code in codes]


BATCHED = BASE_SPEC + "    batch: {maxVMs: 2}\n"


def test_batches_keep_their_vms_when_others_appear_or_vanish(tmp_path):
    d = sitekit.make(tmp_path, BATCHED, inventory(5))
    relock(d)
    assert lock_of(d)["batches"] == {"wave1": ["wave1-01", "wave1-02", "wave1-03"]}
    assert [lock_of(d)["plans"][b] for b in ("wave1-01", "wave1-02", "wave1-03")] == \
        [["vm-1", "vm-2"], ["vm-3", "vm-4"], ["vm-5"]]
    # vm-2 vanishes, vm-6 appears: nobody moves; the newcomer takes the free seat
    relock(d, inventory(6, skip={2}))
    plans = lock_of(d)["plans"]
    assert [plans[b] for b in ("wave1-01", "wave1-02", "wave1-03")] == [["vm-1", "vm-6"], ["vm-3", "vm-4"], ["vm-5"]]
    docs = build(tmp_path)
    assert {p.split("/")[1] for p in docs if p.startswith("plans/")} == {"wave1-01", "wave1-02", "wave1-03"}
    assert [v["id"] for v in docs["plans/wave1-02/plan/plan-t-wave1-02.yaml"]["spec"]["vms"]] == ["vm-3", "vm-4"]


def test_a_started_batch_takes_no_new_vm(tmp_path):
    d = sitekit.make(tmp_path, BATCHED + "    start: {batches: [1]}\n", inventory(3))
    relock(d)
    relock(d, inventory(4, skip={2}))     # vm-2 is deleted on the source: batch 01 runs as it started
    plans = lock_of(d)["plans"]
    assert plans["wave1-01"] == ["vm-1", "vm-2"] and plans["wave1-02"] == ["vm-3", "vm-4"]
    assert lock_of(d)["vms"]["vm-2"]["name"] == "app2"
    docs = build(tmp_path)
    assert "plans/wave1-01/run/migration-t-wave1-01-1.yaml" in docs
    assert not any(p.startswith("plans/wave1-02/run") for p in docs)   # only batch 1 is started


def test_done_plan_is_frozen_in_the_lock(tmp_path):
    d = sitekit.make(tmp_path, BASE_SPEC + "    start: true\n", inventory(2))
    relock(d)
    assert run(["done", "sites/t", "wave1"], tmp_path).exit_code == 0      # offline: no inventory needed
    frozen = lock_of(d)
    assert list(frozen["frozen"]) == ["wave1"]
    # the source changes underneath: a VM vanishes, another appears in the folder
    _site, problems = relock(d, inventory(3, skip={1}))
    assert problems == [] and lock_of(d)["plans"] == frozen["plans"]
    assert lock_of(d)["vms"]["vm-1"] == frozen["vms"]["vm-1"]          # kept as it ran
    docs = build(tmp_path)
    assert "plans/wave1/plan/plan-t-wave1.yaml" in docs
    assert not any("migration-" in p for p in docs)                     # a done plan never runs again


def test_a_new_plan_cannot_take_a_vm_of_a_done_plan(tmp_path):
    d = sitekit.make(tmp_path, BASE_SPEC + "    done: true\n", inventory(2))
    relock(d)
    (d / "site.yaml").write_text(BASE_SPEC + "    done: true\n  - name: again\n    select: [{name: app1}]\n")
    with pytest.raises(Exception) as exc:
        relock(d)
    assert "MTV014" in str(exc.value) and "wave1 (done)" in str(exc.value)


def test_editing_a_done_plan_is_an_error_that_says_why(tmp_path):
    d = sitekit.make(tmp_path, BASE_SPEC + "    done: true\n", inventory(2))
    relock(d)
    assert diags(d, {"MTV093", "MTV124"}) == []
    (d / "site.yaml").write_text(BASE_SPEC + "    done: true\n    targetPowerState: 'on'\n")
    found = diags(d, {"MTV093"})
    assert len(found) == 1 and "never reconciles a Succeeded Plan again" in found[0].message
    assert found[0].location.line == BASE_SPEC.splitlines().index("  - name: wave1") + 1
    # marking done, archiving or retiring is not an edit
    (d / "site.yaml").write_text(BASE_SPEC + "    done: true\n    archived: true\n    retired: true\n")
    assert diags(d, {"MTV093"}) == []


def test_done_without_freezing_is_reported(tmp_path):
    d = sitekit.make(tmp_path, BASE_SPEC, inventory(2))
    relock(d)
    (d / "site.yaml").write_text(BASE_SPEC + "    done: true\n")
    found = diags(d, {"MTV124"})
    assert len(found) == 1 and "`mtvgen done sites/t wave1`" in found[0].help.replace(str(tmp_path) + "/", "")


def test_cancel_retry_and_resume_are_migration_fields(tmp_path):
    d = sitekit.make(tmp_path, BASE_SPEC + "    start: {cancel: [app2], resumeConversion: true}\n", inventory(2))
    relock(d)
    mig = build(tmp_path)["plans/wave1/run/migration-t-wave1-1.yaml"]["spec"]
    assert mig["cancel"] == [{"id": "vm-2", "name": "app2"}] and mig["resumeConversion"] is True
    r = run(["retry", "sites/t", "wave1"], tmp_path)
    assert r.exit_code == 0 and "+    start: {cancel: [app2], attempt: 2}" in r.stdout   # the flow style is kept
    assert "still held back: app2" in r.stderr
    docs = build(tmp_path)
    assert "plans/wave1/run/migration-t-wave1-1.yaml" not in docs        # retired from Git, kept on the cluster
    mig = docs["plans/wave1/run/migration-t-wave1-2.yaml"]["spec"]
    # the VM the operator held back stays held back; resumeConversion belonged to attempt 1
    assert mig["cancel"] == [{"id": "vm-2", "name": "app2"}] and "resumeConversion" not in mig
    r = run(["retry", "sites/t", "wave1", "--include-canceled"], tmp_path)
    assert r.exit_code == 0 and "+    start: {attempt: 3}" in r.stdout
    mig = build(tmp_path)["plans/wave1/run/migration-t-wave1-3.yaml"]["spec"]
    assert "cancel" not in mig
    r = run(["cancel", "sites/t", "wave1"], tmp_path)                      # no VM named: a usage error
    assert r.exit_code == 2 and "pass --all to cancel the whole run" in r.output
    r = run(["cancel", "sites/t", "wave1", "--all"], tmp_path)
    assert r.exit_code == 0
    mig = build(tmp_path)["plans/wave1/run/migration-t-wave1-3.yaml"]["spec"]
    assert [c["id"] for c in mig["cancel"]] == ["vm-1", "vm-2"]


def test_cancel_of_a_vm_the_plan_does_not_have(tmp_path):
    d = sitekit.make(tmp_path, BASE_SPEC + "    start: {cancel: [app9]}\n", inventory(2))
    relock(d)
    found = diags(d, {"MTV016"})
    assert len(found) == 1 and "cancel 'app9' matches 0 VMs" in found[0].message


def test_archive_and_retire(tmp_path):
    d = sitekit.make(tmp_path, BASE_SPEC.replace("networks:\n", ARGO + "networks:\n", 1) + "    start: true\n",
                     inventory(2))
    relock(d)
    before = (d / "site.yaml").read_text()
    r = run(["archive", "sites/t", "wave1"], tmp_path)                 # its run has not ended: refused
    assert r.exit_code == 1 and "error[MTV127]: plan 'wave1' is archived while its run has not ended" in r.stderr
    assert (d / "site.yaml").read_text() == before
    r = run(["retire", "sites/t", "wave1"], tmp_path)                  # retired but not done: refused
    assert r.exit_code == 1 and "error[MTV121]" in r.stderr and (d / "site.yaml").read_text() == before
    (d / "site.yaml").write_text(before + "    retired: true\n")
    r = run(["build", "--now", NOW], tmp_path)
    assert r.exit_code == 1 and "MTV121" in r.stderr                   # the build says the same of a hand edit
    (d / "site.yaml").write_text(before)
    assert run(["done", "sites/t", "wave1"], tmp_path).exit_code == 0
    assert run(["archive", "sites/t", "wave1"], tmp_path).exit_code == 0
    docs = build(tmp_path)
    assert docs["plans/wave1/plan/plan-t-wave1.yaml"]["spec"]["archived"] is True
    assert not any("migration-" in p for p in docs)                    # a done plan is not run again
    assert run(["retire", "sites/t", "wave1"], tmp_path).exit_code == 0
    docs = build(tmp_path)
    assert not any(p.startswith("plans/") for p in docs)
    assert not any("wave1" in p for p in docs if p.startswith("argocd/"))   # the root prunes its Application
    assert not (tmp_path / "out/t/plans").exists()


def test_per_vm_delete_on_failure_false_is_made_effective(tmp_path):
    spec_text = BASE_SPEC + "    vms:\n      - {match: app1, deleteVmOnFailMigration: false}\n"
    d = sitekit.make(tmp_path, spec_text, inventory(2))
    relock(d)
    plan = build(tmp_path)["plans/wave1/plan/plan-t-wave1.yaml"]["spec"]
    assert plan["deleteVmOnFailMigration"] is False                     # Forklift ORs plan and VM flags
    vms = {v["id"]: v.get("deleteVmOnFailMigration") for v in plan["vms"]}
    assert vms == {"vm-1": None, "vm-2": True}


WAVES = """waves:
  - {wave: 1, start: "2026-12-05T21:00:00+01:00", duration: 6h}
  - {wave: 2, start: "2026-11-01T21:00:00+01:00", duration: 6h}
"""


def test_waves_become_windows_of_the_run_applications(tmp_path):
    spec_text = BASE_SPEC.replace("networks:\n", ARGO + WAVES + "networks:\n", 1) + "    wave: 1\n    start: true\n"
    d = sitekit.make(tmp_path, spec_text, inventory(2))
    relock(d)
    project = build(tmp_path)["argocd/appproject-mtv-t.yaml"]
    # the window holds back automated syncs (a start); manualSync lets a person sync a stop at any time
    assert project["spec"]["syncWindows"] == [{"kind": "allow", "schedule": "0 20 5 12 *", "duration": "6h",
                                               "applications": ["t-run-wave1"], "timeZone": "UTC",
                                               "manualSync": True}]


def test_wave_checks(tmp_path):
    d = sitekit.make(tmp_path, BASE_SPEC.replace("networks:\n", WAVES + "networks:\n", 1) + "    wave: 2\n"
                     "    start: true\n", inventory(2))
    relock(d)
    found = diags(d, {"MTV122"})
    assert len(found) == 1 and "wave 2 ended" in found[0].message
    d = sitekit.make(tmp_path / "b", BASE_SPEC + "    wave: 7\n", inventory(2))
    with pytest.raises(Exception) as exc:
        spec.load(d)
    assert "MTV120" in str(exc.value)
    flux = "delivery:\n  repoURL: https://g/m.git\n  flux: {}\n"
    d = sitekit.make(tmp_path / "c", BASE_SPEC.replace("networks:\n", flux + WAVES + "networks:\n", 1), inventory(2))
    from compiler.spec_rules import cross_references as _cross_references
    assert [x.code for x in _cross_references(spec.load(d))] == ["MTV123"]
    d = sitekit.make(tmp_path / "e", BASE_SPEC.replace("networks:\n", ARGO.replace("{}", "{createProject: false}")
                                                        + WAVES + "networks:\n", 1), inventory(2),
                     files={"../mtvgen-policy.yaml": "projects: [mtv-t]\n"})   # the policy allows that project
    assert [x.code for x in _cross_references(spec.load(d))] == ["MTV113"]


def test_batch_numbers_that_do_not_exist(tmp_path):
    d = sitekit.make(tmp_path, BATCHED + "    start: {batches: [4]}\n", inventory(3))
    relock(d)
    found = diags(d, {"MTV125"})
    assert len(found) == 1 and "has no batch 4" in found[0].message and "1, 2" in found[0].message


def test_edits_keep_comments_and_write_nothing_when_they_fail(tmp_path):
    spec_text = BASE_SPEC.replace("  - name: wave1\n", "  # the first wave: web servers\n  - name: wave1  # keep\n"
                                  ).replace("    preHook: prep", "    preHook: prep\n    type: warm")
    d = sitekit.make(tmp_path, spec_text, inventory(2))
    relock(d)
    r = run(["start", "sites/t", "wave1", "--cutover", "2027-01-09T22:00:00+01:00"], tmp_path)
    assert r.exit_code == 0, r.output
    text = (d / "site.yaml").read_text()
    assert text.startswith(spec_text.rstrip("\n")) and "# the first wave: web servers" in text
    assert text[len(spec_text.rstrip("\n")):] == "\n    start:\n      cutover: '2027-01-09T22:00:00+01:00'\n"
    before = (d / "site.yaml").read_text()
    r = run(["start", "sites/t", "wave1"], tmp_path)
    assert r.exit_code == 2 and "already started" in r.stderr and "`mtvgen retry sites/t wave1`" in r.stderr
    r = run(["retry", "sites/t", "nope"], tmp_path)
    assert r.exit_code == 2 and "has no plan 'nope'" in r.stderr
    r = run(["start", "sites/t", "wave1", "--cutover", "x"], tmp_path)   # already started: refused first
    assert (d / "site.yaml").read_text() == before


def test_edit_errors_point_at_the_spec_line(tmp_path):
    d = sitekit.make(tmp_path, BASE_SPEC, inventory(2))
    relock(d)
    lines = (d / "site.yaml").read_text().splitlines()
    plans_line = lines.index("plans:") + 1
    plan_line = lines.index("  - name: wave1") + 1
    r = run(["cancel", "sites/t", "wave1", "--all"], tmp_path)
    assert r.exit_code == 2 and f"sites/t/site.yaml:{plan_line}:5: error: plan 'wave1' is not started" in r.stderr
    r = run(["retry", "sites/t", "nope"], tmp_path)
    assert f"sites/t/site.yaml:{plans_line}:1: error:" in r.stderr
    assert run(["start", "sites/t", "wave1"], tmp_path).exit_code == 0
    start_line = (d / "site.yaml").read_text().splitlines().index("    start: true") + 1
    r = run(["start", "sites/t", "wave1"], tmp_path)
    assert f"sites/t/site.yaml:{start_line}:5: error: plan 'wave1' is already started" in r.stderr


@pytest.mark.parametrize("action", ["start", "retry", "cancel", "done", "archive", "retire"])
def test_an_edit_of_an_invalid_spec_reports_the_spec_first(tmp_path, action):
    """The edits walked the raw document: `plans: 1.5` or a plan named `true` crashed them
    (exit 3; a fuzzer found it). The spec as it stands is loaded first."""
    d = sitekit.make(tmp_path, BASE_SPEC.replace("  - name: wave1\n", "  - name: true\n"), inventory(2))
    before = (d / "site.yaml").read_text()
    r = run([action, "sites/t", "True", *(["--all"] if action == "cancel" else [])], tmp_path)
    assert r.exit_code == 1, r.output
    line = before.splitlines().index("  - name: true") + 1
    assert f"sites/t/site.yaml:{line}:" in r.stderr and "error[MTV001]" in r.stderr
    assert (d / "site.yaml").read_text() == before


@pytest.mark.parametrize("spec_text,args,code", [
    (BASE_SPEC, ["start", "sites/t", "wave1", "--cutover", "not-a-time"], "MTV094"),
    (BASE_SPEC + "    start: true\n", ["cancel", "sites/t", "wave1", "nope"], "MTV016"),
    (BATCHED, ["start", "sites/t", "wave1", "--batch", "4"], "MTV125"),
])
def test_an_edit_the_next_build_would_refuse_writes_nothing(tmp_path, spec_text, args, code):
    """The edit runs the build's checks on its result (offline, from the lock) and
    refuses with the build's own located diagnostic: exit 1, site.yaml byte-identical."""
    d = sitekit.make(tmp_path, spec_text, inventory(3))
    relock(d)
    before = (d / "site.yaml").read_bytes()
    r = run(args, tmp_path)
    assert r.exit_code == 1, r.output
    assert f"error[{code}]" in r.stderr and "sites/t/site.yaml:" in r.stderr
    assert "error: the edit was not written to sites/t/site.yaml" in r.stderr
    assert (d / "site.yaml").read_bytes() == before and r.stdout == ""


def test_an_edit_goes_through_a_site_that_already_has_errors(tmp_path):
    """Errors the site had before the edit do not block it: a cancel must reach a broken site."""
    d = sitekit.make(tmp_path, BASE_SPEC + "    start: {cutover: 'yesterday'}\n", inventory(2))
    relock(d)
    assert any(x.code == "MTV094" for x in diags(d))
    r = run(["cancel", "sites/t", "wave1", "app1"], tmp_path)
    assert r.exit_code == 0, r.output
    assert "cancel: [app1]" in (d / "site.yaml").read_text()


def test_retire_waits_for_a_committed_archive(repo):
    """`done`, `archive` and `retire` in one commit: the Plan leaves Git before the archive
    was ever delivered, so `archived: true` never reaches the cluster (issue 25 item 7)."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(git + ["init", "-q"], cwd=repo, check=True)
    subprocess.run(git + ["add", "-A"], cwd=repo, check=True)
    subprocess.run(git + ["commit", "-qm", "base"], cwd=repo, check=True)
    assert run(["done", "sites/factory", "finance"], repo).exit_code == 0
    assert run(["archive", "sites/factory", "finance"], repo).exit_code == 0
    assert run(["build", "--now", NOW], repo).exit_code == 0           # built, not committed
    before = (repo / "sites/factory/site.yaml").read_text()
    r = run(["retire", "sites/factory", "finance"], repo)
    assert r.exit_code == 2
    assert "plan 'finance' is archived in site.yaml, but the out/ of the last commit is not: " \
           "out/factory/plans/finance/plan/plan-factory-finance.yaml does not carry `archived: true`" in r.stderr
    assert "build and commit the archive, let Argo CD or Flux sync it, then retire" in r.stderr
    assert (repo / "sites/factory/site.yaml").read_text() == before
    # the summary of such a change says so too (a hand edit gets past the command)
    (repo / "sites/factory/site.yaml").write_text(before.replace("archived: true", "archived: true\n    retired: true"))
    assert run(["build", "--now", NOW], repo).exit_code == 0
    text = run(["summary", "sites/factory", "--base", "HEAD", "--now", NOW], repo).stdout
    assert "plan `finance`: ⚠ retired in the change that archives it: `archived: true` never reaches the cluster" \
        in text
    (repo / "sites/factory/site.yaml").write_text(before)
    assert run(["build", "--now", NOW], repo).exit_code == 0
    subprocess.run(git + ["commit", "-qam", "archive finance"], cwd=repo, check=True)
    r = run(["retire", "sites/factory", "finance"], repo)
    assert r.exit_code == 0, r.output


def test_lowering_max_vms_resplits_the_batches_not_started(repo):
    """Issue 21: `batch: {maxVMs: 20}` lowered to 15 changed nothing (web-01 kept 20 VMs,
    "no changes"). Open batches now hold at most the new limit, the rest move on; a
    started batch keeps its VMs for good; the lock output and the summary say what moved."""
    spec = repo / "sites/factory/site.yaml"
    assert run(["start", "sites/factory", "web-01"], repo).exit_code == 0        # web-01 runs
    spec.write_text(spec.read_text().replace("maxVMs: 20", "maxVMs: 15"))
    r = run(["lock", "sites/factory", "--inventory", "sites/factory/inventory.yaml"], repo)
    assert r.exit_code == 0, r.output
    lock = json.loads((repo / "sites/factory/mtvgen.lock").read_text())
    sizes = {b: len(lock["plans"][b]) for b in lock["batches"]["web"]}
    assert sizes == {"web-01": 20, "web-02": 15, "web-03": 10}           # web-01 started: kept as it runs
    assert "plan web-02: 20 -> 15 VM(s)" in r.stderr and "plan web-02 -> web-03: 5 VM(s), vm-2036 'web-036'" in r.stderr
    assert all(n <= 15 for b, n in sizes.items() if b != "web-01")
    assert run(["build", "--now", NOW], repo).exit_code == 0
    text = run(["summary", "sites/factory", "--base", str(ROOT), "--now", NOW], repo).stdout
    assert "- plan `web-02`: −5 VMs (web-036, web-037, web-038, web-039, web-040)" in text
    assert "- plan `web-03`: +5 VMs (web-036, web-037, web-038, web-039, web-040)" in text
    spec.write_text(spec.read_text().replace("maxVMs: 15", "maxVMs: 30"))   # raised: nothing needs to move
    r = run(["lock", "sites/factory", "--inventory", "sites/factory/inventory.yaml"], repo)
    assert "no changes" in r.stderr, r.stderr


def test_done_of_one_batch_is_written_and_frozen(repo):
    """`done` of a batch used to be refused: the edit's own MTV124 (done, not frozen yet)
    names the batch (`web-01`), and only one naming the plan was taken as the edit's."""
    assert run(["start", "sites/factory", "web", "--batch", "1"], repo).exit_code == 0
    r = run(["done", "sites/factory", "web-01"], repo)
    assert r.exit_code == 0, r.output
    assert "+    done: [1]\n" in r.stdout
    assert "web-01" in json.loads((repo / "sites/factory/mtvgen.lock").read_text())["frozen"]
    assert run(["build", "--now", NOW], repo).exit_code == 0


def test_batching_changed_since_the_lock_stops_the_build(repo):
    """Adding `batch:` to a plan without a new lock used to build no Plan for it, silently
    (its Plan pruned on the next sync); a new maxVMs built the old batches."""
    spec = repo / "sites/factory/site.yaml"
    text = spec.read_text()
    for edit in (text.replace("    wave: 1\n", "    wave: 1\n    batch: {maxVMs: 41}\n", 1),
                 text.replace("batch: {maxVMs: 20}", "batch: {maxVMs: 15}")):
        spec.write_text(edit)
        r = run(["build", "--now", NOW], repo)
        assert r.exit_code == 1 and "changed since the lock was made" in r.stderr
        assert "run `mtvgen lock sites/factory`" in r.stderr
