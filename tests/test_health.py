"""The Argo CD health checks, run by a real Lua 5.1 interpreter (Argo CD's
gopher-lua is Lua 5.1) against Forklift status shapes."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from compiler import health
from conftest import ROOT, run

LUA = shutil.which("lua5.1")
RUNNER = 'obj = {obj}\nlocal f = assert(loadstring(io.read("*a")))\nlocal r = f()\nio.write(r.status, "\\t", r.message)\n'


@pytest.fixture(autouse=True)
def _need_lua():
    if LUA is None:
        if os.environ.get("CI"):
            pytest.fail("lua5.1 missing; scripts/test installs it")
        pytest.skip("lua5.1 not installed")


def lua_value(v) -> str:
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, list):
        return "{" + ", ".join(lua_value(x) for x in v) + "}"
    return "{" + ", ".join(f"[{lua_value(k)}] = {lua_value(x)}" for k, x in v.items()) + "}"


def status_of(kind: str, obj: dict) -> tuple[str, str]:
    script = health.scripts()[kind]
    p = subprocess.run([LUA, "-e", RUNNER.format(obj=lua_value(obj))], input=script, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    status, message = p.stdout.split("\t", 1)
    return status, message


def cond(type_, category="Required", status="True", message=""):
    return {"type": type_, "status": status, "category": category, "message": message}


def obj(conds=None, gen=1, observed=1, phase=None, spec=None, vms=None):
    o = {"metadata": {"generation": gen}, "spec": spec or {}}
    if conds is not None or phase or vms is not None:
        o["status"] = {"observedGeneration": observed, "conditions": conds or []}
        if phase:
            o["status"]["phase"] = phase
        if vms is not None:
            o["status"]["vms"] = vms
    return o


CASES = [
    ("Provider", obj(), "Progressing", "Connecting"),
    ("Provider", obj([cond("Ready"), cond("ConnectionTestSucceeded")], phase="Ready"), "Healthy", "Ready"),
    ("Provider", obj([cond("ConnectionAuthFailed", "Critical", message="401")], phase="ConnectionFailed"),
     "Degraded", "ConnectionAuthFailed: 401"),
    ("Provider", obj([cond("Ready")], gen=2, observed=1, phase="Ready"), "Progressing", "observe"),
    ("NetworkMap", obj([cond("Ready")]), "Healthy", "Ready"),
    ("StorageMap", obj([cond("DestinationStorageNotValid", "Critical", message="no class")]), "Degraded",
     "DestinationStorageNotValid: no class"),
    ("Host", obj([cond("ConnectionTestSucceeded")]), "Progressing", "validation"),
    ("Hook", obj([cond("Ready")]), "Healthy", "Ready"),
    ("Plan", obj([cond("Ready")]), "Healthy", "Ready"),
    ("Plan", obj([cond("Ready"), cond("VMNetworksNotMapped", "Warn")]), "Healthy", "Ready"),
    ("Plan", obj([cond("VMNetworksNotMapped", "Critical", message="net-1")]), "Degraded", "VMNetworksNotMapped"),
    ("Plan", obj([cond("Executing"), cond("Ready")]), "Healthy", "Executing"),
    ("Plan", obj([cond("Succeeded")], gen=3, observed=1), "Healthy", "Succeeded"),
    ("Plan", obj([cond("Failed", message="disk copy failed")]), "Degraded", "Failed: disk copy failed"),
    ("Plan", obj([cond("Canceled")]), "Suspended", "Canceled"),
    ("Plan", obj([cond("Archived")], spec={"archived": True}), "Healthy", "Archived"),
    ("Plan", obj([], gen=2, observed=1), "Progressing", "observe"),
    ("Migration", obj(), "Progressing", "Running: 0 done, 0 in progress"),
    ("Migration", obj([cond("Running", "Advisory")], vms=[{"phase": "CopyDisks"}, {"completed": "x"}]),
     "Progressing", "Running: 1 done, 1 in progress"),
    ("Migration", obj([cond("Running", "Advisory")], vms=[{"phase": "CopyingPaused"}]), "Suspended", "cutover"),
    ("Migration", obj([cond("Running", "Advisory")], vms=[{"phase": "CopyingPaused"}],
                      spec={"cutover": "2026-12-05T22:00:00+01:00"}), "Progressing", "1 in progress"),
    ("Migration", obj([cond("Succeeded")]), "Healthy", "Succeeded"),
    ("Migration", obj([cond("Failed", message="boom")]), "Degraded", "Failed: boom"),
]


@pytest.mark.parametrize("kind,o,want,words", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_health(kind, o, want, words):
    status, message = status_of(kind, o)
    assert status == want and words in message, (status, message)


def test_every_forklift_kind_has_a_check_and_the_cli_prints_them():
    assert set(health.scripts()) == {"Provider", "Host", "NetworkMap", "StorageMap", "Hook", "Plan", "Migration"}
    r = run(["health-checks"], ROOT)
    cm = yaml.safe_load(r.stdout)
    assert cm["kind"] == "ConfigMap" and len(cm["data"]) == 7
    assert cm["data"]["resource.customizations.health.forklift.konveyor.io_Plan"] == health.scripts()["Plan"]
    r = run(["health-checks", "--format", "openshift-gitops"], ROOT)
    checks = yaml.safe_load(r.stdout)["spec"]["resourceHealthChecks"]
    assert {c["kind"] for c in checks} == set(health.scripts()) and {c["group"] for c in checks} == {health.GROUP}
