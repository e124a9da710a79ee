"""The Forklift release a site targets (issue 23, item 7): rendering follows it, a field it
does not have is an error at the spec line behind it, never pruned in silence.

Expected facts are written down here from kubev2v/forklift's CRDs at the tags named, not
read from compiler/forklift_fields.py (the table under test)."""

from __future__ import annotations

import json

import pytest
import yaml

import sitekit
from compiler import profile
from conftest import NOW, run
from sitekit import BASE_SPEC

WARM = BASE_SPEC.replace("    preHook: prep", "    preHook: prep\n    type: warm")


def versioned(text: str, version: str) -> str:
    return text.replace("targetNamespace: apps\n", f"targetNamespace: apps\nforkliftVersion: {version!r}\n", 1)


def plan_of(root) -> dict:
    return yaml.safe_load((root / "out" / "t" / "plans" / "wave1" / "plan" / "plan-t-wave1.yaml").read_text())


def build(root):
    return run(["build", "--now", NOW], root)


@pytest.mark.parametrize("release, field, has", [
    # operator/config/crd/bases/forklift.konveyor.io_plans.yaml at each tag
    ("2.9.2", "Plan.spec.type", False), ("2.10.4", "Plan.spec.type", True),
    ("2.9.0", "Plan.spec.useCompatibilityMode", False), ("2.9.1", "Plan.spec.useCompatibilityMode", True),
    ("2.10.6", "Plan.spec.virtV2vImage", True), ("2.11.0", "Plan.spec.virtV2vImage", False),   # a backport
    ("2.11.7", "Plan.spec.virtV2vImage", True), ("2.12.4", "Plan.spec.scsiReservation", True),
    ("2.12.0", "Plan.spec.scsiReservation", False), ("2.12.5", "Migration.spec.vmCutover", False),
    ("main", "Migration.spec.vmCutover", True), ("2.9.2", "Plan.spec.warm", True),
    # pkg/apis/forklift/v1beta1/provider.go ProviderType constants
    ("2.10.6", "Provider.spec.type=hyperv", False), ("2.11.0", "Provider.spec.type=hyperv", True),
    ("2.12.5", "Provider.spec.type=nutanix", False), ("main", "Provider.spec.type=nutanix", True),
])
def test_the_table_says_what_each_release_has(release, field, has):
    assert profile.resolve(release).has(field) is has


def test_only_releases_before_2_12_cancel_a_run_on_an_edit():
    # snapshot.go SnapshotRef.Match: UID and Generation up to 2.11, UID only from 2.12
    assert [profile.resolve(v).cancels_on_edit for v in ("2.9.0", "2.11.7", "2.12.0", "main")] == \
        [True, True, False, False]


def test_a_minor_version_means_its_first_release_and_unknown_ones_are_none():
    assert profile.resolve("2.11").release == "2.11.0"
    assert profile.resolve("v2.12.3").release == "2.12.3"
    assert profile.resolve("2.10.1") is None       # not a tag of kubev2v/forklift mtvgen read
    assert profile.resolve("3.0") is None and profile.resolve("latest") is None


def test_the_first_release_that_has_a_field_is_named():
    assert profile.resolve("2.9.2").since("Migration.spec.vmCutover") == "main"
    assert profile.resolve("2.9.2").since("Plan.spec.type") == "2.10.4"
    assert profile.resolve("2.11.0").since("Plan.spec.virtV2vImage") == "2.11.1"
    assert profile.resolve("main").since("Plan.spec.type") == ""


def test_what_an_object_has_that_the_release_lacks_is_found_at_any_depth():
    old = profile.resolve("2.9.2")
    plan = {"spec": {"type": "warm", "vms": [{"id": "vm-1"}, {"id": "vm-2", "targetPowerState": "on"}],
                     "map": {"network": {"name": "n"}}}}
    assert old.missing("Plan", plan) == [(["spec", "type"], "Plan.spec.type"),
                                         (["spec", "vms", 1, "targetPowerState"], "Plan.spec.vms[].targetPowerState")]
    provider = {"spec": {"type": "hyperv", "url": "https://h"}}
    assert profile.resolve("2.10.6").missing("Provider", provider) == [(["spec", "type"], "Provider.spec.type=hyperv")]
    assert profile.resolve("2.11.0").missing("Provider", provider) == []
    assert profile.resolve("2.10.6").missing("Hook", {"spec": {"type": "hyperv"}}) == []   # only a Provider's type
    assert old.missing("Plan", {"metadata": {}}) == []


def test_a_warm_plan_for_2_9_says_warm_true_and_writes_no_field_2_9_lacks(tmp_path):
    sitekit.locked(tmp_path, versioned(WARM, "2.9.2"))
    r = build(tmp_path)
    assert r.exit_code == 0, r.output
    spec = plan_of(tmp_path)["spec"]
    assert spec["warm"] is True and "type" not in spec
    for absent in ("runPreflightInspection", "deleteVmOnFailMigration"):
        assert absent not in spec, absent
    # 2.9.2 has these (useCompatibilityMode came in 2.9.1), so their `true` is written out
    assert spec["preserveStaticIPs"] is spec["migrateSharedDisks"] is spec["useCompatibilityMode"] is True


def test_a_cold_plan_for_2_9_has_neither_type_nor_warm(tmp_path):
    sitekit.locked(tmp_path, versioned(BASE_SPEC, "2.9.2"))
    assert build(tmp_path).exit_code == 0
    spec = plan_of(tmp_path)["spec"]
    assert "type" not in spec and "warm" not in spec


def test_without_a_version_the_newest_fields_are_written(tmp_path):
    sitekit.locked(tmp_path, WARM)
    assert build(tmp_path).exit_code == 0
    spec = plan_of(tmp_path)["spec"]
    assert spec["type"] == "warm" and spec["runPreflightInspection"] is True


def test_an_option_the_release_lacks_is_an_error_at_its_line(tmp_path):
    text = versioned(WARM.replace("    type: warm", "    type: warm\n    targetPowerState: on"), "2.9.2")
    sitekit.locked(tmp_path, text)
    r = build(tmp_path)
    line = text.splitlines().index("    targetPowerState: on") + 1
    assert r.exit_code == 1
    assert f"site.yaml:{line}:23: error[MTV098]: Plan t-wave1: Forklift 2.9.2 has no field " \
        "Plan.spec.targetPowerState (from 2.10.4 on)" in r.output
    assert "set forkliftVersion to 2.10.4 if the cluster runs it" in r.output
    assert not (tmp_path / "out" / "t").exists()


def test_a_backported_field_names_the_patch_that_has_it(tmp_path):
    text = versioned(BASE_SPEC.replace("    preHook: prep", "    preHook: prep\n    xfsCompatibility: true"), "2.11")
    sitekit.locked(tmp_path, text)
    r = build(tmp_path)
    assert r.exit_code == 1
    assert "Forklift 2.11.0 (taken for 2.11) has no field Plan.spec.xfsCompatibility (from 2.11.1 on)" in r.output


def test_a_per_vm_cutover_needs_a_release_with_vm_cutover(tmp_path):
    text = versioned(WARM, "2.12.5").replace(
        "      - folder: /DC/vm/prod",
        "      - folder: /DC/vm/prod\n    start:\n      cutover: '2027-01-09T22:00:00+01:00'\n"
        "      vmCutover:\n        - vm: alpha\n          cutover: '2027-01-09T23:00:00+01:00'")
    sitekit.locked(tmp_path, text)
    r = build(tmp_path)
    assert r.exit_code == 1
    line = text.splitlines().index("        - vm: alpha") + 1
    assert f"site.yaml:{line}:" in r.output and "has no field Migration.spec.vmCutover" in r.output


def test_an_unknown_release_is_refused_at_its_line_with_those_mtvgen_knows(tmp_path):
    text = versioned(BASE_SPEC, "2.8.0")
    sitekit.make(tmp_path, text)
    r = build(tmp_path)
    assert r.exit_code == 1
    assert "site.yaml:3:18: error[MTV008]: forkliftVersion '2.8.0' is not a release mtvgen has facts for " \
        "(it knows 2.9.0..2.9.2, 2.10.4..2.10.6, 2.11.0..2.11.7, 2.12.0..2.12.5, main)" in r.output


def test_the_release_of_pulled_crds_is_taken_when_the_site_names_none(tmp_path):
    d = sitekit.locked(tmp_path, WARM)
    (d / "schemas").mkdir()
    (d / "schemas" / "VERSION.json").write_text(json.dumps(
        {"source": "test", "kinds": {"Plan": {"operatorVersion": "2.9.1"}}}))
    from compiler import spec
    assert spec.load(d).profile.release == "2.9.1"
