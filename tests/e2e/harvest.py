"""Harvest what the real API server answers on every path tests/fakecluster.py fakes,
into tests/fixtures/real/ (one JSON file a path). tests/test_fake_fidelity.py then holds
the fake to these shapes in the fast suite: every key the fake serves must be one the
real server sends, with the same JSON type.

The objects behind the answers are made first (SEED, and dc1's shared unit as mtvgen
built it). No controller runs here, so no Forklift object has a status: status shapes
stay checked against the upstream Go structs (tests/status_fixtures.py).

    .venv/bin/python -m tests.e2e.harvest     (rewrites tests/fixtures/real/)
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "real"
NS, TARGET = "openshift-mtv", "dc1-apps"
FORKLIFT = f"/apis/forklift.konveyor.io/v1beta1/namespaces/{NS}"

SEED = f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {TARGET}}}
---
apiVersion: v1
kind: ResourceQuota
metadata: {{name: storage, namespace: {TARGET}}}
spec: {{hard: {{requests.storage: 2Ti, persistentvolumeclaims: "100"}}}}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {{name: standard}}
provisioner: openshift-storage.rbd.csi.ceph.com
reclaimPolicy: Delete
---
apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata: {{name: app-net, namespace: {TARGET}, annotations: {{forklift.konveyor.io/route: none}}}}
spec: {{config: '{{}}'}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: mtv-hooks, namespace: {NS}}}
---
apiVersion: v1
kind: Service
metadata: {{name: forklift-inventory, namespace: {NS}}}
spec: {{ports: [{{port: 8443, protocol: TCP}}]}}
---
apiVersion: route.openshift.io/v1
kind: Route
metadata: {{name: forklift-inventory, namespace: {NS}}}
spec: {{host: inventory.apps.example.com, to: {{kind: Service, name: forklift-inventory}}}}
---
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {{name: app1, namespace: {TARGET}}}
spec: {{running: false}}
"""

# fixture name -> (the path the fake answers, the path asked of the real server)
PATHS = {
    "version": "/version",
    "namespace": f"/api/v1/namespaces/{NS}",
    "namespace-missing": "/api/v1/namespaces/no-such-namespace",
    "storageclasses": "/apis/storage.k8s.io/v1/storageclasses",
    "nads": f"/apis/k8s.cni.cncf.io/v1/namespaces/{TARGET}/network-attachment-definitions",
    "serviceaccount": f"/api/v1/namespaces/{NS}/serviceaccounts/mtv-hooks",
    "service": f"/api/v1/namespaces/{NS}/services/forklift-inventory",
    "providers": f"{FORKLIFT}/providers",
    "provider": f"{FORKLIFT}/providers/vcenter-dc1",
    "provider-missing": f"{FORKLIFT}/providers/no-such-provider",
    "plans": f"{FORKLIFT}/plans?labelSelector=mtvgen.io%2Fsite%3Ddc1",
    "migrations": f"{FORKLIFT}/migrations?labelSelector=mtvgen.io%2Fsite%3Ddc1",
    # what `mtvgen status` reads beside a site's runs
    "site-providers": f"{FORKLIFT}/providers?labelSelector=mtvgen.io%2Fsite%3Ddc1",
    "hosts": f"{FORKLIFT}/hosts?labelSelector=mtvgen.io%2Fsite%3Ddc1",
    "networkmaps": f"{FORKLIFT}/networkmaps?labelSelector=mtvgen.io%2Fsite%3Ddc1",
    "storagemaps": f"{FORKLIFT}/storagemaps?labelSelector=mtvgen.io%2Fsite%3Ddc1",
    "hooks": f"{FORKLIFT}/hooks?labelSelector=mtvgen.io%2Fsite%3Ddc1",
    "virtualmachines": f"/apis/kubevirt.io/v1/namespaces/{TARGET}/virtualmachines",
    "resourcequotas": f"/api/v1/namespaces/{TARGET}/resourcequotas",
    "route": f"/apis/route.openshift.io/v1/namespaces/{NS}/routes/forklift-inventory",
    "crds": "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
}
FORBIDDEN = "storageclasses"          # asked again with a token bound to no role


def seed(cp) -> None:
    for ns in (NS, "dc1-db", "argocd"):
        cp.kubectl("create", "namespace", ns, check=False)
    cp.kubectl("apply", "--server-side", "-f", "-", input=SEED)
    for unit in ("shared", "hosts", "plans/databases/plan", "plans/databases/run"):
        docs = [d for d in yaml.safe_load_all(cp.kubectl("kustomize", str(ROOT / "out/dc1" / unit)).stdout) if d]
        cp.kubectl("apply", "--server-side", "--field-manager", "argocd-controller", "-f", "-",
                   input="\n---\n".join(json.dumps(d) for d in docs))


def harvest(cp) -> dict[str, dict]:
    from .controlplane import NOBODY
    out = {}
    for name, path in PATHS.items():
        code, body = cp.get(path)
        if name == "crds":               # one CRD is shape enough (the fake serves upstream files)
            body["items"] = body["items"][:1]
        elif isinstance(body.get("items"), list):   # other tests' sites may share the cluster: dc1's only
            body["items"] = [i for i in body["items"]
                             if ((i.get("metadata") or {}).get("labels") or {}).get("mtvgen.io/site", "dc1") == "dc1"]
        out[name] = {"path": path, "code": code, "body": body}
    code, body = cp.get(PATHS[FORBIDDEN], token=NOBODY)
    out["forbidden"] = {"path": PATHS[FORBIDDEN], "code": code, "body": body}
    return out


def write(found: dict[str, dict]) -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, answer in found.items():
        (FIXTURES / f"{name}.json").write_text(json.dumps(answer, indent=1, sort_keys=True) + "\n")
    (FIXTURES / "SOURCE.md").write_text(
        "# Answers of a real kube-apiserver\n\n"
        "Written by `python -m tests.e2e.harvest` from the control plane of tests/e2e (kube-apiserver\n"
        "and etcd as pinned in e2e/go.mod, the CRDs of ../shared/crds). tests/test_fake_fidelity.py\n"
        "holds tests/fakecluster.py to their shapes; tests/e2e/test_harvest.py fails when a harvest\n"
        "anew would give other shapes. No Forklift controller ran: no object has a status.\n")


if __name__ == "__main__":
    from .controlplane import ControlPlane
    with ControlPlane() as cp:
        seed(cp)
        write(harvest(cp))
        print(f"wrote {len(PATHS) + 1} answers to {FIXTURES.relative_to(ROOT)}/")
