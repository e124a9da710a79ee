"""The Kubernetes client and the Forklift inventory client against a local
HTTPS server that answers the real paths with the real JSON shapes
(tests/fakecluster.py), through a real kubeconfig file."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from compiler import yamlio
from compiler.inventory import kube
from compiler.inventory.forklift import ForkliftSource
from compiler.inventory.snapshot import SnapshotFile
from conftest import BUNDLED, NOW, ROOT, run, tree
from fakecluster import FakeCluster
import sitekit

SHARED_CRDS = ROOT.parent / "shared" / "crds"


@pytest.fixture
def cluster(tmp_path):
    c = FakeCluster(tmp_path)
    c.state.providers[("openshift-mtv", "host")] = {"uid": "uid-host", "type": "openshift", "url": ""}
    yield c
    c.close()


def _snapshot(path):
    return yamlio.plain(yamlio.load_marked(path.read_text(), str(path)))


def _satisfy(cluster, site_dir):
    """Cluster state in which the bundled site has nothing to complain about."""
    from compiler import spec
    site = spec.load(site_dir)
    st = cluster.state
    st.namespaces |= {p.target_namespace for p in site.plans}
    for m in site.maps:
        for e in m.entries:
            if m.kind == "storage":
                st.storage_classes[e.storage_class] = "openshift-storage.rbd.csi.ceph.com"
            elif e.target not in ("pod", "ignored"):
                ns, _, name = e.target.rpartition("/")
                st.nads[(ns or site.target_namespace, name)] = {}
    return site


def _lock(root, site, cluster, *extra):
    return run(["lock", f"sites/{site}", "--kubeconfig", cluster.kubeconfig, "--context", "test",
                "--inventory-ca-file", cluster.cert, *extra], root)


# every bundled site whose source is read through the Forklift inventory service
THROUGH_FORKLIFT = [n for n in BUNDLED if "type: vsphere" not in (ROOT / "sites" / n / "site.yaml").read_text()]


@pytest.mark.parametrize("name", THROUGH_FORKLIFT)
def test_bundled_site_relocked_from_inventory_service_builds_the_same(repo, cluster, name):
    site = _satisfy(cluster, repo / "sites" / name)
    cluster.serve_inventory(_snapshot(repo / "sites" / name / "inventory.yaml"), site.source.name,
                            url=site.source.url)
    r = _lock(repo, name, cluster)
    assert r.exit_code == 0, r.output
    lock = json.loads((repo / "sites" / name / "mtvgen.lock").read_text())
    assert lock["provider"]["origin"].startswith("forklift:https://127.0.0.1:")
    assert lock["target"]["context"] == "test"
    shutil.rmtree(repo / "out" / name)
    r = run(["build", f"sites/{name}", "--now", NOW], repo)
    assert r.exit_code == 0, r.output
    assert tree(repo / "out" / name) == tree(ROOT / "out" / name)


def test_vsphere_site_via_forklift(repo, cluster):
    site = _satisfy(cluster, repo / "sites" / "dc1")
    cluster.state.nads[("dc1-apps", "transfer")] = {"forklift.konveyor.io/route": "none"}
    cluster.state.service_accounts.add(("openshift-mtv", "mtv-hooks"))
    cluster.serve_inventory(_snapshot(repo / "sites/dc1/inventory.yaml"), site.source.name, url=site.source.url)
    r = _lock(repo, "dc1", cluster, "--via", "forklift")
    assert r.exit_code == 0, r.output
    r = run(["build", "sites/dc1", "--now", NOW], repo)
    assert r.exit_code == 0, r.output
    assert tree(repo / "out" / "dc1") == tree(ROOT / "out" / "dc1")


def test_collections_are_paged(tmp_path, cluster):
    snap = _snapshot(ROOT / "sites/openstack-east/inventory.yaml")
    uid = cluster.serve_inventory(snap, "osp-east")
    c = kube.Cluster(kube.ClusterOptions(str(cluster.kubeconfig), "test"))
    src = ForkliftSource(c, "openshift-mtv", "osp-east", "openstack", ca_file=cluster.cert, page=1)
    inv = src.snapshot()
    expected = SnapshotFile(ROOT / "sites/openstack-east/inventory.yaml", "openstack").snapshot()
    assert inv.vms == expected.vms and inv.networks == expected.networks
    vm_calls = [p for p in cluster.state.requests if p == f"/providers/openstack/{uid}/vms"]
    assert len(vm_calls) == len(snap["vms"]) + 1  # one VM per page, then an empty page


def test_the_fake_service_answers_detail_and_type_as_the_real_one(cluster):
    """The planted bug `detail="all"` dropped from the client passes only against a
    service that ignores `detail`: the real one lists bare Resources without it."""
    import urllib3
    uid = cluster.serve_inventory(_snapshot(ROOT / "sites/rhv-lab/inventory.yaml"), "rhv-lab")
    http = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=cluster.cert)
    auth = {"Authorization": "Bearer good-token"}

    def get(path, **fields):
        r = http.request("GET", cluster.url + path, fields=fields or None, headers=auth)
        return r.status, json.loads(r.data)

    status, bare = get(f"/providers/ovirt/{uid}/vms")
    assert status == 200 and bare and all(set(vm) <= {"id", "name", "description", "path", "revision", "selfLink"}
                                          for vm in bare)
    status, full = get(f"/providers/ovirt/{uid}/vms", detail="all")
    assert status == 200 and "nics" in full[0] and "diskAttachments" in full[0]
    assert get(f"/providers/ovirt/{uid}/vms", detail="some")[0] == 400
    assert get(f"/providers/vsphere/{uid}/vms", detail="all")[0] == 404


def test_a_write_to_the_provider_cr_is_no_change_to_the_lock(repo, cluster):
    """The summary's `version` is the Provider CR's resourceVersion: any write to the CR
    (a label, a status update) bumps it, and it must not make the lock change."""
    site = _satisfy(cluster, repo / "sites/rhv-lab")
    uid = cluster.serve_inventory(_snapshot(repo / "sites/rhv-lab/inventory.yaml"), site.source.name,
                                  url=site.source.url)
    assert _lock(repo, "rhv-lab", cluster).exit_code == 0
    before = (repo / "sites/rhv-lab/mtvgen.lock").read_bytes()
    cluster.state.inventory[uid]["summary"]["version"] = "48999"
    r = _lock(repo, "rhv-lab", cluster)
    assert r.exit_code == 0, r.output
    assert "no changes" in r.output
    assert (repo / "sites/rhv-lab/mtvgen.lock").read_bytes() == before


def test_inventory_still_loading_is_retried_then_given_up(repo, cluster):
    site = _satisfy(cluster, repo / "sites/rhv-lab")
    cluster.serve_inventory(_snapshot(repo / "sites/rhv-lab/inventory.yaml"), site.source.name, url=site.source.url)
    cluster.state.loading = 2
    assert _lock(repo, "rhv-lab", cluster).exit_code == 0
    before = (repo / "sites/rhv-lab/mtvgen.lock").read_bytes()
    cluster.state.loading = -1
    t = time.monotonic()
    r = _lock(repo, "rhv-lab", cluster, "--inventory-wait", "1")
    assert r.exit_code == 2 and "still loading after 1 s" in r.stderr
    assert time.monotonic() - t < 5
    assert (repo / "sites/rhv-lab/mtvgen.lock").read_bytes() == before


@pytest.mark.parametrize("case,args,words", [
    ("wrong context", ["--context", "nope"], "kubeconfig has no context 'nope'"),
    ("expired token", ["--context", "expired"], "rejected the credentials of context 'expired'"),
    ("untrusted server", ["--context", "untrusted"], "TLS verification of the API server"),
    ("missing permission", [], "context 'test' may not list storageclasses.storage.k8s.io cluster-wide"),
    ("inventory forbids", [], "may not read the inventory of provider openshift-mtv/rhv-lab"),
    ("inventory token", [], "inventory service rejected the token"),
    ("provider not in inventory", [], "provider openshift-mtv/rhv-lab is not in the inventory service"),
    ("no provider CR", [], "Provider openshift-mtv/rhv-lab does not exist on cluster"),
    ("another shape", [], "the inventory service's ovirt objects are not the shape mtvgen reads (AttributeError"),
    ("an object, not a list", [], "inventory service sent a JSON dict for /providers/ovirt/"),
])
def test_failures_give_one_message_and_keep_the_lock(repo, cluster, case, args, words):
    site = _satisfy(cluster, repo / "sites/rhv-lab")
    uid = cluster.serve_inventory(_snapshot(repo / "sites/rhv-lab/inventory.yaml"), site.source.name,
                                  url=site.source.url)
    st = cluster.state
    if case == "missing permission":
        st.deny.add(("list", "storageclasses", ""))
    elif case == "inventory forbids":
        st.inventory_status = 403
    elif case == "inventory token":
        st.inventory_status = 401
    elif case == "provider not in inventory":
        del st.inventory[uid]
    elif case == "no provider CR":
        del st.providers[("openshift-mtv", "rhv-lab")]
    elif case == "another shape":            # a Forklift whose VMs list their NICs differently
        st.inventory[uid]["collections"]["vms"][0]["nics"] = "nic-1"
    elif case == "an object, not a list":
        st.inventory[uid]["collections"]["vms"] = {"error": "not implemented"}
    before = (repo / "sites/rhv-lab/mtvgen.lock").read_bytes()
    base = ["lock", "sites/rhv-lab", "--kubeconfig", cluster.kubeconfig, "--inventory-ca-file", cluster.cert]
    r = run(base + (args or ["--context", "test"]), repo)
    assert r.exit_code == 2, r.output
    assert words in r.stderr
    assert r.stderr.count("error:") == 1 and "Traceback" not in r.stderr
    assert (repo / "sites/rhv-lab/mtvgen.lock").read_bytes() == before
    if case == "missing permission":
        assert "kubectl auth can-i list storageclasses.storage.k8s.io" in r.stderr


# ---------------------------------------------------------------- target-side checks

TARGET_SPEC = sitekit.BASE_SPEC.replace("    preHook: prep\n", "    preHook: prep\n    serviceAccount: migrator\n"
                                        "    transferNetwork: apps/transfer\n").replace(
    "    image: quay.io/konveyor/hook-runner", "    image: quay.io/konveyor/hook-runner\n    serviceAccount: hooks")


def _ok_state(cluster):
    st = cluster.state
    st.namespaces.add("apps")
    st.storage_classes["standard"] = "openshift-storage.rbd.csi.ceph.com"
    st.nads[("apps", "app-net")] = {}
    st.nads[("apps", "transfer")] = {"forklift.konveyor.io/route": "10.0.0.1"}
    st.service_accounts |= {("apps", "migrator"), ("openshift-mtv", "hooks")}
    st.vms["apps"] = ["unrelated"]


def _target_diags(tmp_path, cluster, spec_text=TARGET_SPEC):
    d = sitekit.make(tmp_path, spec_text)
    r = run(["lock", "sites/t", "--inventory", d / "inventory.yaml", "--kubeconfig", cluster.kubeconfig,
             "--context", "test"], tmp_path)
    assert r.exit_code == 0, r.output
    r = run(["check", "sites/t", "--format", "json", "--now", NOW], tmp_path)
    return {x["code"]: x for x in json.loads(r.stdout)["diagnostics"]}


def test_target_clean(tmp_path, cluster):
    _ok_state(cluster)
    codes = _target_diags(tmp_path, cluster)
    assert not [c for c in codes if c.startswith("MTV1")], codes


def _line(text, needle):
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


@pytest.mark.parametrize("code,mutate,needle,words", [
    ("MTV100", lambda st: st.namespaces.discard("apps"), "- name: wave1", "namespace apps does not exist"),
    ("MTV101", lambda st: st.storage_classes.pop("standard"), "source: ds1", "StorageClass 'standard' does not exist"),
    ("MTV103", lambda st: st.nads.pop(("apps", "app-net")), "source: VM Network", "apps/app-net does not exist"),
    ("MTV104", lambda st: st.nads.pop(("apps", "transfer")), "transferNetwork", "transfer network apps/transfer"),
    ("MTV105", lambda st: st.nads.__setitem__(("apps", "transfer"), {}), "transferNetwork", "no forklift.konveyor.io/route"),
    ("MTV106", lambda st: st.service_accounts.discard(("apps", "migrator")), "serviceAccount: migrator",
     "service account apps/migrator does not exist"),
    ("MTV107", lambda st: st.providers.__setitem__(("openshift-mtv", "t-vsphere"),
                                                   {"uid": "x", "type": "ovirt", "url": "https://other"}),
     "type: vsphere", "exists as ovirt https://other"),
    ("MTV108", lambda st: st.vms.__setitem__("apps", ["alpha"]), "- name: wave1", "apps/alpha already exists"),
    ("MTV109", lambda st: st.providers.pop(("openshift-mtv", "host")), None, "destination Provider openshift-mtv/host"),
])
def test_target_checks(tmp_path, cluster, code, mutate, needle, words):
    _ok_state(cluster)
    mutate(cluster.state)
    found = _target_diags(tmp_path, cluster)
    assert code in found, found.keys()
    assert words in found[code]["message"]
    if needle:
        assert found[code]["line"] == _line(TARGET_SPEC, needle)


def test_a_missing_nad_is_one_finding_naming_the_plans_and_the_nads_there(tmp_path, cluster):
    """Five batches sharing the site's map gave five identical MTV103 lines, without the plan."""
    _ok_state(cluster)
    cluster.state.nads.pop(("apps", "app-net"))
    batched = TARGET_SPEC.replace("    preHook: prep\n", "    preHook: prep\n    batch: {maxVMs: 1}\n")
    _target_diags(tmp_path, cluster, batched)
    r = run(["check", "sites/t", "--now", NOW], tmp_path)
    found = [line for line in r.stdout.splitlines() if "[MTV103]" in line]
    assert found == [f"sites/t/site.yaml:{_line(batched, 'source: VM Network')}:5: error[MTV103]: "
                     "NetworkAttachmentDefinition apps/app-net does not exist on test "
                     "(used by plans 'wave1-01', 'wave1-02')"], r.stdout
    assert "help: NADs in apps: transfer" in r.stdout


def test_a_plain_lock_keeps_the_cluster_facts_and_their_errors(tmp_path, cluster):
    """Every MTV004 hint says `mtvgen lock SITE`; run without --context, it dropped the facts
    a `lock --context` recorded and with them the errors they raise."""
    _ok_state(cluster)
    cluster.state.storage_classes.pop("standard")
    assert "MTV101" in _target_diags(tmp_path, cluster)
    plain = ["lock", "sites/t", "--inventory", "sites/t/inventory.yaml"]
    r = run(plain, tmp_path)
    assert r.exit_code == 0 and "kept the cluster facts recorded from context 'test'" in r.stderr, r.output
    assert "target facts from test (kept, stale)" in r.stderr
    r = run(["check", "sites/t", "--now", NOW], tmp_path)
    assert r.exit_code == 1
    assert "StorageClass 'standard' does not exist on test (as an earlier lock recorded it)" in r.stdout
    assert run(plain, tmp_path).exit_code == 0                   # kept again, unchanged: still stale
    assert json.loads((tmp_path / "sites/t/mtvgen.lock").read_text())["target"]["stale"] is True
    r = run(plain + ["--drop-cluster-facts"], tmp_path)
    assert r.exit_code == 0 and "target" not in json.loads((tmp_path / "sites/t/mtvgen.lock").read_text())
    assert run(["check", "sites/t", "--now", NOW], tmp_path).exit_code == 0


def test_no_provisioner_for_non_vsphere_cold(repo, cluster):
    site = _satisfy(cluster, repo / "sites/rhv-lab")
    cluster.state.storage_classes["ocs-storagecluster-ceph-rbd"] = "kubernetes.io/no-provisioner"
    cluster.serve_inventory(_snapshot(repo / "sites/rhv-lab/inventory.yaml"), site.source.name, url=site.source.url)
    assert _lock(repo, "rhv-lab", cluster).exit_code == 0
    r = run(["check", "sites/rhv-lab", "--now", NOW], repo)
    assert r.exit_code == 1 and "error[MTV102]: StorageClass 'ocs-storagecluster-ceph-rbd' has no provisioner" in r.stdout


# ---------------------------------------------------------------- schemas pull

def test_schemas_pull_then_builds_validate_against_the_cluster_crds(repo, cluster):
    import yaml

    import crd_conformance
    crd_conformance.require()
    cluster.state.crds = [yaml.safe_load(p.read_text()) for p in sorted(SHARED_CRDS.glob("*.yaml"))]
    r = run(["schemas", "pull", "sites/dc1", "--kubeconfig", cluster.kubeconfig, "--context", "test"], repo)
    assert r.exit_code == 0, r.output
    version = json.loads((repo / "sites/dc1/schemas/VERSION.json").read_text())
    assert version["source"] == "test" and version["kinds"]["Plan"]["version"] == "v1beta1"
    assert version["kinds"]["Plan"]["controllerGen"]
    r = run(["build", "sites/dc1", "--now", NOW], repo)
    assert r.exit_code == 0, r.output
    # a cluster whose Plan CRD has no targetName (an older MTV) rejects the build
    plan = repo / "sites/dc1/schemas/plan.json"
    schema = json.loads(plan.read_text())
    del schema["properties"]["spec"]["properties"]["vms"]["items"]["properties"]["targetName"]
    plan.write_text(json.dumps(schema))
    r = run(["build", "sites/dc1", "--now", NOW], repo)
    assert r.exit_code == 1
    assert "error[MTV099]: Plan dc1-databases (cluster CRD): spec/vms/0: Additional properties" in r.stderr
    # a pulled schema broken by a bad merge or an edit: an error naming the file, not a crash
    for damage, words in (("{", "JSONDecodeError"), ('{"type": 5}', "not a draft-7 schema: 5 is not valid")):
        plan.write_text(damage)
        r = run(["build", "sites/dc1", "--now", NOW], repo)
        assert r.exit_code == 1, r.output
        assert "sites/dc1/schemas/plan.json: error: the pulled schemas cannot be used" in r.stderr
        assert words in r.stderr and "mtvgen schemas pull sites/dc1" in r.stderr


def test_a_wave_that_does_not_fit_the_namespace_quota_is_an_error_at_its_line(repo, cluster):
    """Issue 21 item 5: the target namespace's ResourceQuota against the disks of each wave,
    counting the waves before it (their disks stay), read at lock time with the cluster facts."""
    site = _satisfy(cluster, repo / "sites" / "factory")
    lock = json.loads((repo / "sites/factory/mtvgen.lock").read_text())
    size = {p: sum(d["capacity"] for vm in lock["plans"][p] for d in lock["vms"][vm]["disks"])
            for p in lock["plans"]}
    wave1 = size["finance"]
    wave2 = sum(n for p, n in size.items() if p.startswith("web-"))
    ns = site.target_namespace
    # room for wave 1 and half of wave 2
    hard = (wave1 + wave2 // 2) >> 30
    cluster.state.quotas[ns] = {"storage": ({"requests.storage": f"{hard}Gi"}, {"requests.storage": "0"})}
    r = run(["lock", "sites/factory", "--inventory", "sites/factory/inventory.yaml", "--kubeconfig", cluster.kubeconfig,
             "--context", "test"], repo)
    assert r.exit_code == 0, r.output
    r = run(["check", "sites/factory", "--format", "json", "--now", NOW], repo)
    found = [d for d in json.loads(r.stdout)["diagnostics"] if d["code"] == "MTV114"]
    text = (repo / "sites/factory/site.yaml").read_text().splitlines()
    wave2_line = next(i for i, line in enumerate(text, 1) if "wave: 2," in line)
    assert [(d["line"], d["message"]) for d in found] == [
        (wave2_line, f"wave 2 needs {(wave1 + wave2) / 2**30:,.0f} GiB of requests.storage in namespace {ns} (with the "
                     f"waves before it); ResourceQuota storage leaves {hard:,} GiB (hard {hard}Gi, used 0)")]
    # room for both waves: nothing to say
    cluster.state.quotas[ns] = {"storage": ({"requests.storage": "100Ti", "persistentvolumeclaims": "1000"},
                                            {"requests.storage": "1Ti", "persistentvolumeclaims": "3"})}
    run(["lock", "sites/factory", "--inventory", "sites/factory/inventory.yaml", "--kubeconfig", cluster.kubeconfig,
         "--context", "test"], repo)
    r = run(["check", "sites/factory", "--format", "json", "--now", NOW], repo)
    assert not [d for d in json.loads(r.stdout)["diagnostics"] if d["code"] == "MTV114"]
