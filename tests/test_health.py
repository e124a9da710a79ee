"""Health, as Argo CD and Flux will compute it: every row of the oracle
(tests/health_oracle.py, written apart from compiler/delivery/health.SEMANTICS)
runs its upstream-shaped fixture (tests/status_fixtures.py) through the Lua script the way Argo CD runs it
(e2e/argocd: Argo CD's own util/lua, VM.ExecuteHealthLua) and through the Flux
CEL expressions with Flux's own evaluator (e2e/flux: fluxcd/pkg/runtime/cel
StatusEvaluator, as kustomize-controller runs spec.healthCheckExprs)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from compiler.delivery import health
from conftest import ROOT, run
import fluxcel
from health_oracle import EXPECTED
from status_fixtures import FIXTURES

LUA = ROOT / ".cache" / "bin" / "argocd-lua"


@pytest.fixture(scope="module")
def lua_runner():
    if not LUA.exists():
        if os.environ.get("CI"):
            pytest.fail("argocd-lua (e2e/argocd) is not built; scripts/test builds it (scripts/build-go)")
        pytest.skip("run scripts/build-go first")
    return LUA


def argocd_status(runner: Path, kind: str, obj: dict, tmp_path) -> tuple[str, str]:
    script = tmp_path / f"{kind}.lua"
    script.write_text(health.scripts()[kind])
    p = subprocess.run([str(runner), str(script)], input=json.dumps(obj), capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    return out["status"], out["message"]


@pytest.fixture(scope="module")
def flux():
    yield from fluxcel.running()


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_argocd_health(lua_runner, tmp_path, fixture):
    argocd, words, _flux, _why = EXPECTED[fixture]
    obj = FIXTURES[fixture]
    status, message = argocd_status(lua_runner, obj["kind"], obj, tmp_path)
    assert (status, words in message) == (argocd, True), message


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_flux_health(flux, fixture):
    obj = FIXTURES[fixture]
    assert flux.health(obj["kind"], obj) == EXPECTED[fixture][2]


def test_the_readme_table_says_what_the_oracle_says():
    """SEMANTICS generates the README's table; the oracle is written apart from it."""
    assert {c.fixture: (c.argocd, c.words, c.flux) for c in health.SEMANTICS} == \
        {k: v[:3] for k, v in EXPECTED.items()}


def test_every_fixture_has_a_row_and_every_forklift_kind_is_covered():
    assert set(EXPECTED) == set(FIXTURES)
    assert {FIXTURES[f]["kind"] for f in EXPECTED} == set(health.CEL)


def test_nothing_that_gates_a_retry_reports_a_run_outcome():
    """The deadlock of issue 8: a Plan whose last run failed or was canceled must be Healthy
    (Argo CD) and Current (Flux), or the retry Migration behind it is never applied."""
    for name in ("plan-failed", "plan-canceled", "plan-succeeded-canceled"):
        case = next(c for c in health.SEMANTICS if c.fixture == name)
        assert (case.argocd, case.flux) == ("Healthy", "Current")


def test_warm_run_does_not_flip_between_precopies(lua_runner, tmp_path):
    """Between precopies and during one, a warm run without cutover reads the same."""
    during = FIXTURES["migration-warm-no-cutover"]
    between = json.loads(json.dumps(during))
    for v in between["status"]["vms"]:
        if v["phase"] == "CopyDisks":
            v["phase"] = "CopyingPaused"
    assert argocd_status(lua_runner, "Migration", during, tmp_path)[0] == "Suspended"
    assert argocd_status(lua_runner, "Migration", between, tmp_path)[0] == "Suspended"


def test_a_vm_with_its_own_cutover_keeps_a_warm_run_progressing(lua_runner, tmp_path):
    obj = json.loads(json.dumps(FIXTURES["migration-warm-no-cutover"]))
    obj["spec"]["vmCutover"] = [{"id": "vm-1001", "cutover": "2026-12-05T21:00:00Z"}]
    assert argocd_status(lua_runner, "Migration", obj, tmp_path)[0] == "Progressing"


@pytest.mark.parametrize("health_status", ["Healthy", "Degraded", "Progressing"])
def test_application_health_follows_the_child(lua_runner, tmp_path, health_status):
    app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "x"},
           "status": {"health": {"status": health_status, "message": "m"}}}
    assert argocd_status(lua_runner, "Application", app, tmp_path) == (health_status, "m")
    del app["status"]
    assert argocd_status(lua_runner, "Application", app, tmp_path)[0] == "Progressing"


def test_cli_prints_an_argocd_cm_patch_and_an_appending_json_patch():
    r = run(["health-checks"], ROOT)
    data = yaml.safe_load(r.stdout)["data"]
    assert data["resource.customizations.health.forklift.konveyor.io_Plan"] == health.scripts()["Plan"]
    assert "resource.customizations.health.argoproj.io_Application" in data
    assert len(data) == 8
    ops = json.loads(run(["health-checks", "--format", "openshift-gitops"], ROOT).stdout)
    # appends to the list: a merge patch would replace the user's own checks
    assert {op["op"] for op in ops} == {"add"} and {op["path"] for op in ops} == {"/spec/resourceHealthChecks/-"}
    assert {(op["value"]["group"], op["value"]["kind"]) for op in ops} == \
        {(k.split("_")[0].rsplit(".", 0)[0].replace("resource.customizations.health.", ""), k.split("_")[1]) for k in data}


def test_the_openshift_gitops_patch_from_the_current_resource_is_idempotent(tmp_path):
    """The appending JSON Patch failed on a resource without spec.resourceHealthChecks and
    doubled mtvgen's entries when applied twice; the merge patch from --current does neither."""
    import copy
    cr = {"apiVersion": "argoproj.io/v1beta1", "kind": "ArgoCD", "metadata": {"name": "openshift-gitops"},
          "spec": {"resourceHealthChecks": [{"group": "apps", "kind": "Deployment", "check": "return {}"}]}}
    applied = copy.deepcopy(cr)
    for _ in range(2):
        f = tmp_path / "cr.json"
        f.write_text(json.dumps(applied))
        r = run(["health-checks", "--format", "openshift-gitops", "--current", f], tmp_path)
        assert r.exit_code == 0, r.output
        applied["spec"].update(json.loads(r.stdout)["spec"])        # a merge patch replaces the list
        checks = applied["spec"]["resourceHealthChecks"]
        assert checks[0]["kind"] == "Deployment" and len(checks) == 1 + len(health.scripts())
    bare = {"apiVersion": "argoproj.io/v1beta1", "kind": "ArgoCD", "metadata": {"name": "x"}, "spec": {}}
    (tmp_path / "bare.json").write_text(json.dumps(bare))
    r = run(["health-checks", "--format", "openshift-gitops", "--current", tmp_path / "bare.json"], tmp_path)
    assert len(json.loads(r.stdout)["spec"]["resourceHealthChecks"]) == len(health.scripts())
