"""The lifecycle and cutover findings word for word: code, plan, place, message and fix.

Elsewhere the tests look for key words; here each finding a person acts on during a
migration weekend is written out in full, so a changed message, a lost location or a
finding no longer tied to its plan (suppressions and acknowledgements match on it) fails
a test. The scripted mutation run found those untested (README, "Keeping the suite
honest")."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import sitekit
from compiler import pipeline
from compiler.errors import DiagnosticsFailed
from sitekit import BASE_SPEC

NOV27 = datetime(2026, 11, 27, tzinfo=timezone.utc)
WARM = BASE_SPEC.replace("    preHook: prep\n", "    preHook: prep\n    type: warm\n")


def findings(tmp_path, text, edit=None, now=NOV27, codes=None) -> list[tuple]:
    d = sitekit.make(tmp_path, text)
    sitekit.lock(d)
    if edit:
        edit(d)
    try:
        diags = pipeline.check_site(d, pipeline.Options(now=now))[2]
    except DiagnosticsFailed as exc:
        diags = exc.diagnostics
    root = str(tmp_path) + "/"
    return [(x.code, x.plan, str(x).replace(root, "")) for x in diags
            if (codes is None and x.level != "info" and x.code not in ("MTV035", "MTV050"))
            or (codes is not None and x.code in codes)]


def pinned(d, name="wave1", since="2026-12-01T00:00:00+00:00"):
    """The lock as `mtvgen start` leaves it: the plan pinned as running."""
    path = d / "mtvgen.lock"
    lock = json.loads(path.read_text())
    lock["started"] = {name: {"attempt": 1, "since": since}}
    path.write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")


def then(old: str, new: str, pin: bool = True):
    def edit(d):
        if pin:
            pinned(d)
        text = (d / "site.yaml").read_text()
        assert old in text
        (d / "site.yaml").write_text(text.replace(old, new, 1))
    return edit


def test_waves_and_cutovers(tmp_path):
    two = BASE_SPEC.replace("    preHook: prep\n", "    preHook: prep\n    type: warm\n    wave: 1\n").replace(
        "      - folder: /DC/vm/prod", "      - name: alpha") + "    start: {cutover: '2026-11-25T00:00:00+00:00'}\n" \
        "  - name: two\n    wave: 2\n    select:\n      - name: beta\n    start: {cutover: '2027-01-01T00:00:00+00:00'}\n"
    waves = "waves:\n  - {wave: 1, start: '2026-11-20T21:00:00+01:00', duration: 8h}\n" \
            "  - {wave: 2, start: 'next saturday', duration: 8h}\n"
    assert findings(tmp_path, two.replace("plans:\n", waves + "plans:\n", 1)) == [
        ("MTV094", "", "sites/t/site.yaml:22:5: error[MTV094]: wave 2 start 'next saturday' is not an ISO 8601 time "
                       "with an offset\n  help: Write e.g. 2026-12-05T22:00:00+01:00."),
        ("MTV095", "wave1", "sites/t/site.yaml:30:12: error[MTV095]: cutover 2026-11-25T00:00:00+00:00 of attempt 1 "
                            "was already past when the attempt was pinned\n  help: set a future cutover (`mtvgen retry "
                            "sites/t wave1 --cutover TIME`), or cut over at once with --cutover now"),
        ("MTV122", "wave1", "sites/t/site.yaml:30:12: warning[MTV122]: plan 'wave1' is started, and the window of wave "
                            "1 ended at 2026-11-21T05:00:00+01:00\n  help: Move the plan to a later wave, or update "
                            "the wave's start."),
        ("MTV091", "two", "sites/t/site.yaml:35:12: error[MTV091]: plan 'two' is cold; cutover applies to warm plans "
                          "only\n  help: Remove the cutover or make the plan warm."),
    ]


def test_a_cutover_that_passed_after_the_pin_and_a_cancel_that_names_nobody(tmp_path):
    text = WARM + "    start: {cutover: '2026-12-20T00:00:00+00:00', cancel: [nobody]}\n"
    assert findings(tmp_path, text, pinned, now=datetime(2027, 1, 1, tzinfo=timezone.utc)) == [
        ("MTV090", "wave1", "sites/t/site.yaml:26:12: warning[MTV090]: cutover 2026-12-20T00:00:00+00:00 is in the "
                            "past\n  help: Set a future cutover or remove it."),
        ("MTV016", "wave1", "sites/t/site.yaml:26:60: error[MTV016]: cancel 'nobody' matches 0 VMs of plan 'wave1'\n"
                            "  help: name one VM of the plan by name, id or path"),
    ]
    assert findings(tmp_path / "b", WARM + "    start: true\n", codes={"MTV092"}) == [
        ("MTV092", "wave1", "sites/t/site.yaml:26:12: info[MTV092]: warm plan 'wave1' starts without a cutover\n"
                            "  help: Add start.cutover when you know the window.")]


def test_batches_that_do_not_exist(tmp_path):
    text = BASE_SPEC.replace("    preHook: prep\n", "    preHook: prep\n    batch: {maxVMs: 1}\n") + \
        "    start: {batches: [5]}\n    done: [7]\n"
    assert findings(tmp_path, text) == [
        ("MTV125", "wave1", "sites/t/site.yaml:21:5: error[MTV125]: plan 'wave1' has no batch 5 (start.batches); it "
                            "has 1, 2\n  help: Use the batch numbers of the lock (plan-01, plan-02, ...)."),
        ("MTV125", "wave1", "sites/t/site.yaml:21:5: error[MTV125]: plan 'wave1' has no batch 7 (done); it has 1, 2\n"
                            "  help: Use the batch numbers of the lock (plan-01, plan-02, ...)."),
    ]


def test_done_and_retired(tmp_path):
    retired = BASE_SPEC.replace("      - folder: /DC/vm/prod", "      - name: alpha") + \
        "    done: true\n  - name: gone\n    retired: true\n    select:\n      - name: beta\n"
    assert findings(tmp_path, retired) == [
        ("MTV121", "gone", "sites/t/site.yaml:26:5: error[MTV121]: plan 'gone' is retired but not done\n"
                           "  help: mark it done first (a running plan must not leave the output)")]
    assert findings(tmp_path / "b", WARM, then("    type: warm\n", "    type: warm\n    done: true\n")) == [
        ("MTV124", "wave1", "sites/t/site.yaml:21:5: error[MTV124]: plan 'wave1' is marked done, but the lock does not "
                            "freeze it yet\n  help: run `mtvgen done sites/t wave1` (offline) or `mtvgen lock "
                            "sites/t`")]
    done = WARM + "    done: true\n"
    assert findings(tmp_path / "c", done, then("    type: warm\n", "    type: warm\n    targetPowerState: on\n",
                                               pin=False)) == [
        ("MTV093", "wave1", "sites/t/site.yaml:21:5: error[MTV093]: plan 'wave1' is done and was edited since (its "
                            "spec, the defaults or mappings it inherits, or its VMs in the lock): Forklift never "
                            "reconciles a Succeeded Plan again, so the edit would not reach its VMs\n  help: Revert the "
                            "edit; select VMs that still need to move in a new plan.")]


def test_a_running_plan_that_loses_its_start_or_is_archived(tmp_path):
    started = WARM + "    start: true\n"
    assert findings(tmp_path, started, then("    start: true\n", "")) == [
        ("MTV128", "wave1", "sites/t/site.yaml:21:5: error[MTV128]: plan 'wave1' is running (pinned in the lock) and "
                            "has no `start:` any more: the run goes on while Git no longer shows it\n  help: put "
                            "`start:` back; to stop the run: `mtvgen cancel sites/t wave1 --all`")]
    assert findings(tmp_path / "b", started, then("    start: true\n", "    start: true\n    archived: true\n")) == [
        ("MTV127", "wave1", "sites/t/site.yaml:27:15: error[MTV127]: plan 'wave1' is archived while its run has not "
                            "ended (not done): Forklift deletes the DataVolumes and PVCs of every VM not yet "
                            "succeeded\n  help: cancel the run, mark it done (`mtvgen done sites/t wave1`), then "
                            "archive it")]


def test_digests_in_locks_keep_their_values(tmp_path):
    """A lock in Git carries these digests (a done plan's freeze, a running plan's pin); a
    release that computed them otherwise would report every frozen or running plan edited.
    The values are this release's, written down: change them only with a migration path."""
    from compiler import lifecycle, lock as lockmod, spec
    d = sitekit.make(tmp_path, BASE_SPEC.replace("plans:\n", "defaults:\n  targetPowerState: auto\nplans:\n", 1))
    sitekit.lock(d)
    site = spec.load(d)
    plan = site.spec_plans[0]
    assert lifecycle.plan_digest(plan, lifecycle.members(lockmod.read(site), plan.name)) == \
        "effective:sha256:abecf7bd489c909f"
    assert lifecycle.run_settings(site, plan) == {
        "Plan": "sha256:4ebd1a44529534fc", "NetworkMap": "sha256:091d6636fdc7a129",
        "StorageMap": "sha256:1f0155a237ef319e", "source Provider": "sha256:698c56e86ed07aa5",
        "destination Provider": "sha256:44136fa355b3678a"}


def test_a_done_plan_whose_mapping_changes_is_edited(tmp_path):
    done = WARM + "    done: true\n"
    assert [c for c, _p, _t in findings(tmp_path, done, then("    storageClass: standard", "    storageClass: fast",
                                                             pin=False))] == ["MTV093"]
