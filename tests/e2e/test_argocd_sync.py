"""mtvgen's Argo CD units synced by Argo CD's own sync engine (gitops-engine, engine.Sync)
with health from Argo CD's own Lua runner (built-in checks plus `mtvgen health-checks`),
against the real kube-apiserver: e2e/argocd/sync/main.go, built as argocd-sync.

No Forklift, External Secrets or Sealed Secrets controller runs here, so the test plays
their part the way kwok plays a kubelet's: a stand-in watches for the unit's objects and
writes the status their controller writes when all is well (the shapes of
tests/status_fixtures.py, kubev2v/forklift d42511b; Argo CD's own health scripts for
ExternalSecret and SealedSecret read `Ready`/`Synced` conditions). Without it, the sync
stops at the first wave that never turns healthy, and says which resource it waits for.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest
import yaml

from conftest import ROOT
from compiler.delivery import health
from status_fixtures import FIXTURES, T0, cond, ready_kind

SYNC = ROOT / ".cache" / "bin" / "argocd-sync"

def _condition(type_: str, message: str, **extra) -> dict:
    return {"type": type_, "status": "True", "message": message, "lastTransitionTime": T0, **extra}


# The status each controller writes when all is well. Forklift kinds: the builders of
# tests/status_fixtures.py (kubev2v/forklift d42511b structs). ExternalSecret and
# SealedSecret: their CRDs' status.conditions items as ../shared/crds/ecosystem holds
# them (external-secrets cc5bfbc, v1: type, status, reason, message, lastTransitionTime;
# sealed-secrets 86671a8, v1alpha1: the same and lastUpdateTime), with the condition
# Argo CD's built-in health script reads (Ready; Synced).
READY = {
    "ExternalSecret": {"conditions": [_condition("Ready", "secret synced", reason="SecretSynced")]},
    "SealedSecret": {"conditions": [_condition("Synced", "unsealed", lastUpdateTime=T0)]},
    "Provider": FIXTURES["provider-ready"]["status"],
    "Host": FIXTURES["host-ready"]["status"],
    "NetworkMap": ready_kind("NetworkMap", [cond("Ready", message="The network map is ready.")])["status"],
    "StorageMap": ready_kind("StorageMap", [cond("Ready", message="The storage map is ready.")])["status"],
    "Hook": FIXTURES["hook-ready"]["status"],
    "Plan": FIXTURES["plan-ready"]["status"],
}
PLURAL = {"ExternalSecret": "externalsecrets.external-secrets.io", "SealedSecret": "sealedsecrets.bitnami.com",
          "Provider": "providers.forklift.konveyor.io", "Host": "hosts.forklift.konveyor.io",
          "NetworkMap": "networkmaps.forklift.konveyor.io", "StorageMap": "storagemaps.forklift.konveyor.io",
          "Hook": "hooks.forklift.konveyor.io", "Plan": "plans.forklift.konveyor.io"}


class Controllers(threading.Thread):
    """Marks each object of the unit Ready (as its controller would) once it exists, and
    records the order in which the sync created them."""

    def __init__(self, cp, docs):
        super().__init__(daemon=True)
        self.cp, self.wanted = cp, {(d["kind"], d["metadata"]["name"]) for d in docs if d["kind"] in READY}
        self.seen: list[tuple[str, str]] = []
        self.done = threading.Event()
        self.error: Exception | None = None

    def run(self):
        try:
            self._play()
        except Exception as exc:      # noqa: BLE001 - reported by the test, not lost in a thread
            self.error = exc

    def _play(self):
        while not self.done.is_set() and len(self.seen) < len(self.wanted):
            for kind in sorted({k for k, _ in self.wanted}):
                r = self.cp.kubectl("get", PLURAL[kind], "-A", "-o", "json", check=False)
                for obj in json.loads(r.stdout or "{}").get("items", []):
                    key = (kind, obj["metadata"]["name"])
                    if key in self.wanted and key not in self.seen:
                        self.seen.append(key)
                        status = json.loads(json.dumps(READY[kind]))
                        if "observedGeneration" in status:
                            status["observedGeneration"] = obj["metadata"]["generation"]
                        self.cp.kubectl("patch", PLURAL[kind], "-n", obj["metadata"]["namespace"], key[1],
                                        "--subresource=status", "--type=merge", "-p", json.dumps({"status": status}))
            time.sleep(0.3)


def unit_docs(cp, path) -> list[dict]:
    return [d for d in yaml.safe_load_all(cp.kubectl("kustomize", str(path)).stdout) if d]


def argocd_sync(cp, docs, scripts, timeout="90s") -> tuple[int, dict]:
    r = subprocess.run([str(SYNC), "-kubeconfig", str(cp.kubeconfig), "-scripts", str(scripts), "-timeout", timeout],
                       input="\n---\n".join(json.dumps(d) for d in docs), capture_output=True, text=True, timeout=300)
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def sync_with_controllers(cp, docs, scripts) -> tuple[int, dict, Controllers]:
    """Argo CD's sync of `docs` while the stand-ins play the controllers that make them Ready."""
    controllers = Controllers(cp, docs)
    controllers.start()
    try:
        code, result = argocd_sync(cp, docs, scripts)
    finally:
        controllers.done.set()
        controllers.join(10)
    return code, result, controllers


@pytest.fixture(scope="module")
def scripts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("health")
    for kind, text in health.scripts().items():
        (folder / f"{kind}.lua").write_text(text)
    return folder


def wave(doc) -> int:
    return int(doc["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0"))


def test_a_wave_whose_controller_never_answers_holds_the_sync_and_says_which(controlplane, scripts):
    cp = controlplane
    cp.kubectl("create", "namespace", "openshift-mtv", check=False)
    docs = [d for d in unit_docs(cp, ROOT / "out/factory/shared")]
    code, result = argocd_sync(cp, docs, scripts, timeout="20s")
    assert code == 1 and result["phase"] == "Timeout"
    waiting = [r for r in result["resources"] if r["health"] == "Progressing"]
    # wave 0 was applied and waits for its ExternalSecret; nothing of wave 1 was applied
    assert [(r["kind"], r["wave"]) for r in waiting] == [("ExternalSecret", 0)]
    assert all(r["wave"] == 0 for r in result["resources"])


@pytest.mark.parametrize("unit", ["out/dc1/shared", "out/dc1/hosts", "out/dc1/plans/web/plan",
                                  "out/factory/plans/finance/plan"])
def test_units_sync_wave_by_wave_once_each_wave_is_healthy(controlplane, scripts, unit):
    cp = controlplane
    docs = unit_docs(cp, ROOT / unit)
    for ns in {d["metadata"].get("namespace") for d in docs} - {None}:
        cp.kubectl("create", "namespace", ns, check=False)
    # another test may have applied the unit already: start from nothing (no finalizers here)
    cp.kubectl("delete", "--ignore-not-found", "--wait", "-f", "-", input="\n---\n".join(json.dumps(d) for d in docs))
    code, result, controllers = sync_with_controllers(cp, docs, scripts)
    assert controllers.error is None, controllers.error
    assert (code, result["phase"]) == (0, "Succeeded"), (result, controllers.seen)
    assert {(r["kind"], r["name"]) for r in result["resources"]} == {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert all(r["status"] == "Synced" for r in result["resources"])
    waves = {(d["kind"], d["metadata"]["name"]): wave(d) for d in docs}
    order = [waves[k] for k in controllers.seen]
    assert order == sorted(order), f"created out of wave order: {controllers.seen}"


def test_a_run_unit_syncs_at_once_and_its_migration_is_not_waited_on(controlplane, scripts):
    """The run unit (a Migration: its one and last wave) is what a window lets through.
    Argo CD does not wait on the health of the last wave, so the sync ends at once while
    the Migration is still Progressing: a migration that takes a night never holds a sync
    operation (nor, after it, a cancel merged in the window)."""
    cp = controlplane
    docs = unit_docs(cp, ROOT / "out/dc1/plans/databases/run")
    assert [d["kind"] for d in docs] == ["Migration"]
    cp.kubectl("create", "namespace", "openshift-mtv", check=False)
    cp.kubectl("delete", "--ignore-not-found", "--wait", "-f", "-", input="\n---\n".join(json.dumps(d) for d in docs))
    began = time.monotonic()
    code, result = argocd_sync(cp, docs, scripts, timeout="30s")
    took = time.monotonic() - began
    assert (code, result["phase"]) == (0, "Succeeded"), result
    [migration] = result["resources"]
    assert (migration["kind"], migration["status"]) == ("Migration", "Synced")
    # no controller ran: the Migration has no status (its health is Progressing, README "What health
    # means"), and the sync did not wait for it (the timeout was 30 s)
    live = json.loads(cp.kubectl("get", "migration", "-n", "openshift-mtv", "dc1-databases-1", "-o", "json").stdout)
    assert "status" not in live and took < 25, (took, live.get("status"))
