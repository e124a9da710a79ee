"""The bundled example sites, end to end: lock from their snapshots, build,
compare with the committed output, validate against the upstream CRDs."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from conftest import NOW, ROOT, run, tree
import crd_conformance

SITE_NAMES = ["dc1", "rhv-lab", "openstack-east", "ova-archive", "ocp-east"]


def test_relock_from_snapshots_gives_the_committed_locks(repo):
    for name in SITE_NAMES:
        site = repo / "sites" / name
        before = (site / "mtvgen.lock").read_bytes()
        r = run(["lock", f"sites/{name}", "--inventory", f"sites/{name}/inventory.yaml"], repo)
        assert r.exit_code == 0, r.output
        assert (site / "mtvgen.lock").read_bytes() == before, f"{name}: lock is not reproducible"
        assert "no changes" in r.stderr


def test_build_matches_committed_output(repo):
    """Golden test: the committed out/ is exactly what a fresh build gives."""
    shutil.rmtree(repo / "out")
    r = run(["build", "--now", NOW], repo)
    assert r.exit_code == 0, r.output
    assert tree(repo / "out") == tree(ROOT / "out")
    assert sorted(p.name for p in (repo / "out").iterdir()) == sorted(SITE_NAMES)


def test_two_builds_are_byte_identical(repo):
    run(["build", "--now", NOW, "--out", "a"], repo)
    run(["build", "--now", NOW, "--out", "b"], repo)
    assert tree(repo / "a") == tree(repo / "b") and tree(repo / "a")


@pytest.mark.skipif(not crd_conformance.available(), reason="../shared/crds not present")
def test_every_document_passes_the_upstream_crd_schemas_strictly():
    seen = set()
    for path in sorted((ROOT / "out").rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        if doc["apiVersion"].startswith("forklift.konveyor.io/"):
            seen.add(doc["kind"])
            assert crd_conformance.errors(doc) == [], path
    assert seen == {"Provider", "Host", "NetworkMap", "StorageMap", "Hook", "Plan", "Migration"}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
@pytest.mark.parametrize("name", SITE_NAMES)
def test_kubectl_kustomize_accepts_each_site(name):
    out = subprocess.run(["kubectl", "kustomize", str(ROOT / "out" / name)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    docs = list(yaml.safe_load_all(out.stdout))
    files = yaml.safe_load((ROOT / "out" / name / "kustomization.yaml").read_text())["resources"]
    assert len(docs) == len(files)


def test_check_passes_on_fresh_output_and_fails_with_diff_after_edit(repo):
    r = run(["build", "--check", "--now", NOW], repo)
    assert r.exit_code == 0, r.output
    plan = repo / "out" / "dc1" / "plan-dc1-databases.yaml"
    plan.write_text(plan.read_text().replace("preserveStaticIPs: true", "preserveStaticIPs: false"))
    r = run(["build", "--check", "--now", NOW], repo)
    assert r.exit_code == 1
    assert "-  preserveStaticIPs: false" in r.stdout and "+  preserveStaticIPs: true" in r.stdout
    assert "out/ is not what a fresh build gives" in r.stderr
    assert "preserveStaticIPs: false" in plan.read_text()  # --check wrote nothing


def test_failed_build_leaves_previous_output_untouched(repo):
    before = tree(repo / "out")
    spec = repo / "sites" / "rhv-lab" / "site.yaml"
    spec.write_text(spec.read_text().replace("type: cold", "type: live"))
    r = run(["build", "--now", NOW], repo)
    assert r.exit_code == 1
    assert "MTV040" in r.stderr and "nothing was written" in r.stderr
    assert tree(repo / "out") == before


def test_deleted_site_leaves_no_stale_output(repo):
    shutil.rmtree(repo / "sites" / "ova-archive")
    r = run(["build", "--now", NOW], repo)
    assert r.exit_code == 0, r.output
    assert not (repo / "out" / "ova-archive").exists()


def test_manifest_conventions(repo):
    """What the controllers and GitOps tools need, on every document."""
    for path in (ROOT / "out").rglob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        if doc["kind"] == "Kustomization":
            continue
        text = path.read_text()
        assert "status:" not in text and "generateName" not in text and "creationTimestamp" not in text
        meta = doc["metadata"]
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "mtvgen"
        assert "argocd.argoproj.io/sync-wave" in meta["annotations"]
        if doc["kind"] in ("Provider", "Plan", "Migration"):
            assert meta["annotations"]["argocd.argoproj.io/sync-options"] == "Prune=false,Delete=false"
        if doc["kind"] == "Plan":
            spec = doc["spec"]
            for key in ("preserveStaticIPs", "migrateSharedDisks", "runPreflightInspection",
                        "useCompatibilityMode", "deleteVmOnFailMigration"):
                assert isinstance(spec[key], bool)
            assert all(vm.get("id") for vm in spec["vms"])
            for ref in (spec["provider"]["source"], spec["provider"]["destination"],
                        spec["map"]["network"], spec["map"]["storage"]):
                assert ref["namespace"]
        if doc["kind"] == "Provider" and doc["spec"]["type"] == "vsphere":
            assert doc["spec"]["settings"]["sdkEndpoint"] == "vcenter"
        if doc["kind"] in ("NetworkMap", "StorageMap"):
            for pair in doc["spec"]["map"]:
                src = pair["source"]
                assert src.get("id") or src.get("type") == "pod" or src.get("name") == "glance"
        if doc["kind"] == "Secret":
            assert set(doc["stringData"]) <= {"url"}, "a plain Secret in the examples carries no credentials"


def test_waves_order_kustomization():
    waves = {"ExternalSecret": -10, "Secret": -10, "Provider": 0, "Host": 10, "NetworkMap": 10,
             "StorageMap": 10, "Hook": 10, "Plan": 20, "Migration": 30}
    for site in SITE_NAMES:
        files = yaml.safe_load((ROOT / "out" / site / "kustomization.yaml").read_text())["resources"]
        seen = [int(yaml.safe_load((ROOT / "out" / site / f).read_text())["metadata"]["annotations"]
                    ["argocd.argoproj.io/sync-wave"]) for f in files]
        assert seen == sorted(seen)
        for f in files:
            kind = yaml.safe_load((ROOT / "out" / site / f).read_text())["kind"]
            assert seen[files.index(f)] == waves[kind]
