"""The delivery stage: sync units, Argo CD Applications, Flux Kustomizations,
encrypted credential files, and the checks that guard them (MTV007, MTV068,
MTV110-MTV112). Structure is read from fresh builds of small sites."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
import yaml

import fluxcel
import sitekit
from compiler import spec
from compiler.errors import DiagnosticsFailed
from conftest import NOW, ROOT, out_objects, run
from sitekit import BASE_SPEC

ARGO = """delivery:
  repoURL: https://git.example.com/m.git
  argocd:
    syncWindows:
      - {kind: allow, schedule: "0 22 * * 6", duration: 4h, plans: [wave1]}
"""
FLUX = """delivery:
  repoURL: https://git.example.com/m.git
  revision: release-1
  flux: {sopsSecret: age-key, kubeConfigSecret: east}
"""
TWO_PLANS = BASE_SPEC + """    exclude:
      - name: beta
    start: true
  - name: wave2
    select:
      - name: beta
"""
SEALED = """apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata: {name: vc-sealed, namespace: openshift-mtv}
spec:
  encryptedData: {user: AgB1, password: AgB2, ca.crt: AgB3}
  template:
    metadata:
      labels: {createdForProviderType: vsphere, createdForResourceType: providers}
"""
SOPS = """apiVersion: v1
kind: Secret
metadata: {name: vc-sops, namespace: openshift-mtv}
stringData:
    user: ENC[AES256_GCM,data:YQ==,iv:aXY=,tag:dGFn,type:str]
    password: ENC[AES256_GCM,data:Yg==,iv:aXY=,tag:dGFn,type:str]
    insecureSkipVerify: ENC[AES256_GCM,data:Yw==,iv:aXY=,tag:dGFn,type:str]
sops:
    mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]
    version: 3.9.1
"""


def _spec(base=TWO_PLANS, creds="    secret: vc-creds", delivery=""):
    text = base.replace("    secret: vc-creds", creds)
    return text.replace("networks:\n", delivery + "networks:\n", 1)


# the repository's policy lets these sites' Flux apply to the `east` cluster (compiler/policy.py)
POLICY = {"../mtvgen-policy.yaml": "fluxKubeConfigs: [east]\n"}


def build(tmp_path, spec_text, files=None):
    d = sitekit.make(tmp_path, spec_text, files={**POLICY, **(files or {})})
    sitekit.lock(d)
    r = run(["build", "--now", NOW], tmp_path)
    assert r.exit_code == 0, r.output
    out = tmp_path / "out" / "t"
    return out, {p.relative_to(out).as_posix(): yaml.safe_load(p.read_text()) for p in out_objects(out)}


def spec_diags(tmp_path, spec_text, files=None):
    d = sitekit.make(tmp_path, spec_text, files={**POLICY, **(files or {})})
    try:
        spec.load(d)
    except DiagnosticsFailed as exc:
        return exc.diagnostics
    return []


def test_each_plan_is_a_unit_split_into_plan_and_run(tmp_path):
    out, docs = build(tmp_path, _spec())
    assert {(p.split("/")[0], d["kind"]) for p, d in docs.items()} >= {("shared", "Provider"), ("shared", "NetworkMap"),
                                                                       ("shared", "Hook"), ("plans", "Plan")}
    assert docs["plans/wave1/plan/plan-t-wave1.yaml"]["kind"] == "Plan"
    assert docs["plans/wave1/run/migration-t-wave1-1.yaml"]["kind"] == "Migration"
    assert not (out / "plans/wave2/run").exists()       # not started: no run unit yet
    assert yaml.safe_load((out / "plans/wave2/kustomization.yaml").read_text())["resources"] == ["plan"]
    assert yaml.safe_load((out / "plans/wave1/kustomization.yaml").read_text())["resources"] == ["plan", "run"]
    assert yaml.safe_load((out / "kustomization.yaml").read_text())["resources"] == ["shared", "plans/wave1",
                                                                                    "plans/wave2"]
    assert not (out / "argocd").exists() and not (out / "flux").exists()  # no delivery: section


def test_a_site_with_nothing_shared_still_has_its_shared_unit_first():
    """External Providers and per-plan maps leave the shared unit empty; the plan units
    still depend on it, so it must exist (an empty one)."""
    from compiler.delivery import units
    from compiler.documents import Document
    from compiler.errors import Location
    plan = Document("Plan", "t-p", "openshift-mtv", {"kind": "Plan"}, Location("s"), {}, "p")
    got = units.split([plan], ["p"])
    assert [(u.key, u.path, [d.name for d in u.docs], u.depends_on) for u in got] == \
        [("shared", "shared", [], ()), ("plan:p", "plans/p/plan", ["t-p"], ("shared",))]


ARGOCD_WINDOWS = ROOT / ".cache" / "bin" / "argocd-windows"


def _argocd_can_sync(project: dict, app: dict) -> dict:
    if not ARGOCD_WINDOWS.exists():
        pytest.fail("argocd-windows (e2e/argocd/windows) is not built; scripts/test builds it (scripts/build-go)")
    p = subprocess.run([str(ARGOCD_WINDOWS)], input=json.dumps({"project": project, "application": app}),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.mark.parametrize("hours, automated", [(60, False), (-1, True)])
def test_outside_its_window_a_run_syncs_by_hand_only_and_a_plan_always(tmp_path, hours, automated):
    """Argo CD's own window rules (v1alpha1 SyncWindows.Matches/CanSync), now: a wave's window
    holds back the automated sync of its run Application (a start merged early) but never a
    sync by hand (a cancel or a moved cutover), and never gates the plan Application."""
    start = (datetime.now(timezone.utc) + timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)
    waves = f"waves:\n  - {{wave: 1, start: '{start.isoformat()}', duration: 4h}}\n"
    text = _spec(BASE_SPEC + "    wave: 1\n    start: true\n",
                 delivery="delivery:\n  repoURL: https://git.example.com/m.git\n  argocd: {}\n")
    d = sitekit.make(tmp_path, text.replace("plans:\n", waves + "plans:\n", 1), files=POLICY)
    sitekit.lock(d)
    r = run(["build", "--now", NOW], tmp_path)
    assert r.exit_code == 0, r.output
    argocd = tmp_path / "out" / "t" / "argocd"
    project = yaml.safe_load((argocd / "appproject-mtv-t.yaml").read_text())
    run_app = yaml.safe_load((argocd / "application-t-run-wave1.yaml").read_text())
    plan_app = yaml.safe_load((argocd / "application-t-plan-wave1.yaml").read_text())
    assert _argocd_can_sync(project, run_app) == {"windows": 1, "automated": automated, "manual": True}
    assert _argocd_can_sync(project, plan_app) == {"windows": 0, "automated": True, "manual": True}


def test_argocd_children_gate_plans_on_shared_and_never_self_heal_a_run(tmp_path):
    out, docs = build(tmp_path, _spec(delivery=ARGO))
    apps = {d["metadata"]["name"]: d for p, d in docs.items() if p.startswith("argocd/") and d["kind"] == "Application"}
    assert set(apps) == {"t-shared", "t-plan-wave1", "t-run-wave1", "t-plan-wave2"}   # wave2 is not started
    wave = {n: int(a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for n, a in apps.items()}
    assert wave["t-shared"] < wave["t-plan-wave1"] == wave["t-plan-wave2"] == wave["t-run-wave1"]
    assert apps["t-run-wave1"]["spec"]["syncPolicy"]["automated"] == {"prune": False, "selfHeal": False}
    assert apps["t-plan-wave1"]["spec"]["syncPolicy"]["automated"] == {"prune": False, "selfHeal": True}
    assert apps["t-run-wave1"]["spec"]["source"]["path"] == "out/t/plans/wave1/run"
    assert apps["t-plan-wave2"]["spec"]["source"]["path"] == "out/t/plans/wave2/plan"
    for app in apps.values():
        assert (tmp_path / app["spec"]["source"]["path"]).is_dir()
    project = docs["argocd/appproject-mtv-t.yaml"]
    assert project["spec"]["syncWindows"] == [{"kind": "allow", "schedule": "0 22 * * 6", "duration": "4h",
                                               "applications": ["t-run-wave1"]}]
    root = docs["bootstrap/application-t-root.yaml"]
    assert root["spec"]["source"]["path"] == "out/t/argocd" and root["spec"]["syncPolicy"]["automated"]["prune"]
    # no child may cascade-delete what it applied when a retired plan's Application is pruned
    assert all("finalizers" not in a["metadata"] for a in apps.values())


def test_flux_chains_run_after_plan_after_shared(tmp_path):
    out, docs = build(tmp_path, _spec(creds="    sops: secrets/vc.sops.yaml", delivery=FLUX),
                      files={"secrets/vc.sops.yaml": SOPS})
    ks = {d["metadata"]["name"]: d["spec"] for p, d in docs.items() if p.startswith("flux/")}
    assert [x["name"] for x in ks["t-run-wave1"]["dependsOn"]] == ["t-plan-wave1"]
    assert [x["name"] for x in ks["t-plan-wave1"]["dependsOn"]] == ["t-shared"]
    assert "dependsOn" not in ks["t-shared"]
    assert {e["kind"] for e in ks["t-shared"]["healthCheckExprs"]} == {"Provider", "NetworkMap", "StorageMap", "Hook"}
    assert {e["kind"] for e in ks["t-run-wave1"]["healthCheckExprs"]} == {"Migration"} and ks["t-run-wave1"]["wait"]
    assert ks["t-shared"]["decryption"] == {"provider": "sops", "secretRef": {"name": "age-key"}}
    assert "decryption" not in ks["t-plan-wave1"]
    assert all(k["kubeConfig"] == {"secretRef": {"name": "east"}} for k in ks.values())
    assert docs["bootstrap/gitrepository-mtv-t.yaml"]["spec"]["ref"] == {"branch": "release-1"}
    # the SOPS file is written byte for byte: re-serialising would break its MAC
    assert (out / "shared/secret-vc-sops.yaml").read_text() == SOPS
    assert docs["shared/provider-t-vsphere.yaml"]["spec"]["secret"]["name"] == "vc-sops"


@pytest.fixture(scope="module")
def flux():
    yield from fluxcel.running()


def _ks_status(ready: str, entries: list[str]) -> dict:
    """A Kustomization as kustomize-controller writes its status: fluxcd/kustomize-controller
    api/v1/kustomization_types.go KustomizationStatus (observedGeneration, conditions as
    metav1.Condition) and api/v1/inventory_types.go at 29d25a4 (ResourceInventory.entries of
    ResourceRef {id: '<namespace>_<name>_<group>_<kind>', v}; the id is fluxcd/cli-utils
    v1.3.0 pkg/object/objmetadata.go ObjMetadata.String)."""
    return {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "t-plan-wave1", "namespace": "flux-system", "generation": 1},
            "status": {"observedGeneration": 1,
                       "conditions": [{"type": "Ready", "status": ready, "reason": "HealthCheckFailed"
                                       if ready == "False" else "ReconciliationSucceeded"}],
                       **({"inventory": {"entries": [{"id": e, "v": "v1beta1"} for e in entries]}}
                          if entries is not None else {})}}


def test_a_flux_run_waits_for_its_plan_to_exist_not_to_be_healthy(tmp_path, flux):
    """A cancel or a new cutover must reach a run whose Plan turned unhealthy mid-run (a
    VM gone from the source): the run unit's dependency asks only that the plan unit has
    applied the Plan, as Flux's own evaluator reads it."""
    _out, docs = build(tmp_path, _spec(creds="    sops: secrets/vc.sops.yaml", delivery=FLUX),
                       files={"secrets/vc.sops.yaml": SOPS})
    ks = {d["metadata"]["name"]: d for p, d in docs.items() if p.startswith("flux/")}
    [dep] = ks["t-run-wave1"]["spec"]["dependsOn"]
    assert dep["name"] == "t-plan-wave1"
    plan_id = "openshift-mtv_t-wave1_forklift.konveyor.io_Plan"
    run_ks = ks["t-run-wave1"]
    assert flux.ready(dep["readyExpr"], run_ks, _ks_status("False", [plan_id, "openshift-mtv_x_v1_Secret"]))
    assert flux.ready(dep["readyExpr"], run_ks, _ks_status("True", [plan_id]))
    assert not flux.ready(dep["readyExpr"], run_ks, _ks_status("False", []))           # apply failed: no Plan yet
    assert not flux.ready(dep["readyExpr"], run_ks, _ks_status("Unknown", None))       # never reconciled
    assert not flux.ready(dep["readyExpr"], run_ks, _ks_status("True", ["openshift-mtv_t-other_forklift.konveyor.io_Plan"]))
    # the plan unit still waits for shared the built-in way: health, and the current revision
    assert ks["t-plan-wave1"]["spec"]["dependsOn"] == [{"name": "t-shared"}]


def test_sealed_secret_is_passed_through_and_named_by_the_provider(tmp_path):
    out, docs = build(tmp_path, _spec(creds="    sealedSecret: secrets/vc.sealed.yaml"),
                      files={"secrets/vc.sealed.yaml": SEALED})
    assert (out / "shared/sealedsecret-vc-sealed.yaml").read_text() == SEALED
    assert docs["shared/provider-t-vsphere.yaml"]["spec"]["secret"]["name"] == "vc-sealed"


def test_encrypted_files_that_are_not_what_they_claim_are_refused(tmp_path):
    cases = {
        "sealed for another namespace": (SEALED.replace("openshift-mtv", "default"), "sealedSecret", "sealed for namespace"),
        "a plaintext value in a SOPS file": (SOPS.replace("ENC[AES256_GCM,data:Yg==,iv:aXY=,tag:dGFn,type:str]",
                                                          "hunter2"), "sops", "password are not encrypted"),
        "not encrypted at all": (SOPS[:SOPS.index("sops:")], "sops", "carries no SOPS metadata"),
    }
    for i, (label, (text, mode, words)) in enumerate(cases.items()):
        diags = spec_diags(tmp_path / str(i), _spec(creds=f"    {mode}: secrets/f.yaml"), {"secrets/f.yaml": text})
        found = [d for d in diags if d.code == "MTV007"]
        assert len(found) == 1 and words in found[0].message, (label, [str(d) for d in diags])
        assert "hunter2" not in "".join(str(d) for d in diags)
        assert found[0].location.line == 8  # the `sealedSecret:`/`sops:` line


def test_files_outside_the_site_directory_are_never_read(tmp_path):
    (tmp_path / "secret.yaml").write_text(SEALED)
    diags = spec_diags(tmp_path, _spec(creds="    sealedSecret: ../../secret.yaml"))
    assert [d.code for d in diags] == ["MTV007"] and "outside the site directory" in diags[0].message
    d = sitekit.make(tmp_path / "c", BASE_SPEC.replace("image: quay.io/konveyor/hook-runner",
                                                       "image: quay.io/konveyor/hook-runner\n    playbook: /etc/passwd"))
    hook = spec.load(d).hooks["prep"]
    assert hook.playbook_text == b"" and "absolute path" in hook.playbook_error   # reported as MTV006 by check


def test_a_sealed_file_must_carry_the_provider_keys(tmp_path):
    diags = spec_diags(tmp_path, _spec(creds="    sealedSecret: s.yaml"),
                       {"s.yaml": SEALED.replace("password: AgB2, ", "")})
    assert [(d.code, d.message) for d in diags] == [("MTV005", "s.yaml lacks password for the source (vsphere)")]


def test_esxi_hosts_need_their_own_credentials_or_an_explicit_reuse(tmp_path):
    host = "    secret: vc-creds\n  hosts:\n    - name: esx1\n"
    diags = spec_diags(tmp_path, _spec(creds=host))
    assert [(d.code, d.level) for d in diags] == [("MTV068", "error")]
    assert diags[0].location.line == 10  # the host
    ok = spec.load(sitekit.make(tmp_path / "b", _spec(creds=host + "      reuseProviderCredentials: true\n")))
    assert ok.source.hosts[0].credentials.mode == "reuseProvider"
    from compiler.spec_rules import cross_references as _cross_references
    notes = [x for x in _cross_references(ok) if x.code == "MTV068"]
    assert [x.level for x in notes] == ["info"] and "reuses the vCenter credentials" in notes[0].message


def test_delivery_checks(tmp_path):
    diags = spec_diags(tmp_path, _spec(delivery=ARGO.replace("plans: [wave1]", "plans: [wave3]")))
    assert [(d.code, d.location.line) for d in diags] == [("MTV111", 13)] and "wave3" in diags[0].message
    sops = {"secrets/vc.sops.yaml": SOPS}
    diags = spec_diags(tmp_path / "b", _spec(creds="    sops: secrets/vc.sops.yaml",
                                             delivery=FLUX.replace("sopsSecret: age-key, ", "")), sops)
    assert [d.code for d in diags] == ["MTV112"]
    d = sitekit.make(tmp_path / "c", _spec(creds="    sops: secrets/vc.sops.yaml", delivery=ARGO), files=sops)
    site = spec.load(d)   # a warning, not an error
    from compiler.spec_rules import cross_references as _cross_references
    assert [x.code for x in _cross_references(site)] == ["MTV110"]
