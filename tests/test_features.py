"""Every spec feature at once, rendered and checked against the upstream CRDs
(strict) and the project's own schemas: remote destination, external source,
plan-specific maps, per-VM overrides, LUKS, hooks, offload, labels, templates."""

from __future__ import annotations

import pytest
import yaml

import crd_conformance
import sitekit
from conftest import NOW, out_file, out_objects, run

SPEC = """\
apiVersion: mtvgen/v1
mtvNamespace: mtv
targetNamespace: apps
source:
  type: vsphere
  name: vc-east
  url: https://vc.example.com/sdk
  vddkImage: quay.io/example/vddk:8
  sdkEndpoint: esxi
  settings: {useVddkAioOptimization: "true"}
  credentials:
    externalSecret: {store: vault, key: mtv/vc, storeKind: SecretStore, refreshInterval: 15m,
                     properties: {user: username}}
destination:
  name: remote-ocp
  url: https://api.remote.example.com:6443
  credentials:
    externalSecret: {store: vault, key: mtv/remote}
storage:
  - source: ds1
    storageClass: fast
    volumeMode: Block
    accessMode: ReadWriteMany
    offload: {vendor: ontap, secret: ontap-creds}
networks:   # no plan uses the site map here: it is not emitted
  - {source: VM Network, target: pod}
hooks:
  - {name: prep, image: quay.io/konveyor/hook-runner, playbook: pb.yml, serviceAccount: hooks, deadline: 300}
  - {name: notify, image: quay.io/konveyor/hook-runner}
defaults:
  type: warm
  preserveStaticIPs: false
  migrateSharedDisks: false
  targetLabels: {team: payments}
  targetNodeSelector: {zone: a}
plans:
  - name: wave1
    description: "Wave 1: 'quoted' & <odd> text"
    select: [{folder: /DC/vm/prod}]
    transferNetwork: transfer
    targetPowerState: auto
    serviceAccount: migrator
    pvcNameTemplate: "{{.VmName}}-disk-{{.DiskIndex}}"
    preHook: prep
    networks:
      - {source: VM Network, target: default/shared-net}
      - {source: App, target: pod}
    vms:
      - match: alpha
        targetName: alpha-new
        rootDisk: /dev/sda2
        instanceType: u1.medium
        luksSecret: alpha-luks
        postHook: notify
        targetPowerState: "off"
        deleteVmOnFailMigration: false
    start:
      attempt: 2
      cutover: "2027-01-09T22:00:00+01:00"
      vmCutover: [{vm: beta, cutover: "2027-01-10T02:00:00Z"}]
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("features")
    d = sitekit.make(root, SPEC, files={"pb.yml": "- hosts: localhost\n  tasks: []\n"})
    sitekit.lock(d)
    r = run(["build", "--now", NOW], root)
    assert r.exit_code == 0, r.output
    docs = {}
    for path in out_objects(root / "out" / "t"):
        doc = yaml.safe_load(path.read_text())
        docs[(doc["kind"], doc["metadata"]["name"])] = doc
    return docs


def test_all_documents_pass_the_upstream_crds(built):
    crd_conformance.require()
    for (kind, name), doc in built.items():
        assert crd_conformance.errors(doc) == [], (kind, name)


def test_providers_and_secrets(built):
    src = built[("Provider", "vc-east")]["spec"]
    assert src["settings"] == {"sdkEndpoint": "esxi", "useVddkAioOptimization": "true", "vddkInitImage":
                               "quay.io/example/vddk:8"}
    assert src["secret"] == {"name": "vc-east-credentials", "namespace": "mtv"}
    dst = built[("Provider", "remote-ocp")]["spec"]
    assert dst["type"] == "openshift" and dst["url"] == "https://api.remote.example.com:6443"
    es = built[("ExternalSecret", "vc-east-credentials")]["spec"]
    assert es["secretStoreRef"] == {"name": "vault", "kind": "SecretStore"} and es["refreshInterval"] == "15m"
    assert {d["secretKey"]: d["remoteRef"]["property"] for d in es["data"]} == \
        {"user": "username", "password": "password", "ca.crt": "ca.crt"}
    remote = built[("ExternalSecret", "remote-ocp-credentials")]["spec"]
    assert [d["secretKey"] for d in remote["data"]] == ["token"]
    assert remote["target"]["template"]["metadata"]["labels"]["createdForProviderType"] == "openshift"


def test_maps(built):
    assert ("NetworkMap", "t-network") not in built
    plan_map = built[("NetworkMap", "t-wave1-network")]
    assert plan_map["metadata"]["labels"]["mtvgen.io/plan"] == "wave1"
    assert plan_map["spec"]["map"][0]["destination"] == {"type": "multus", "name": "shared-net", "namespace": "default"}
    assert plan_map["spec"]["provider"]["destination"] == {"name": "remote-ocp", "namespace": "mtv"}
    sm = built[("StorageMap", "t-storage")]["spec"]["map"][0]
    assert sm["destination"] == {"storageClass": "fast", "volumeMode": "Block", "accessMode": "ReadWriteMany"}
    assert sm["offloadPlugin"] == {"vsphereXcopyConfig": {"secretRef": "ontap-creds", "storageVendorProduct": "ontap"}}


def test_plan_and_migration(built):
    plan = built[("Plan", "t-wave1")]["spec"]
    assert plan["map"]["network"]["name"] == "t-wave1-network" and plan["map"]["storage"]["name"] == "t-storage"
    assert plan["transferNetwork"] == {"name": "transfer", "namespace": "apps"}
    assert plan["preserveStaticIPs"] is False and plan["migrateSharedDisks"] is False
    assert plan["targetLabels"] == {"team": "payments"} and plan["targetNodeSelector"] == {"zone": "a"}
    assert plan["description"] == "Wave 1: 'quoted' & <odd> text" and plan["type"] == "warm"
    alpha = next(v for v in plan["vms"] if v["name"] == "alpha")
    assert alpha["targetName"] == "alpha-new" and alpha["rootDisk"] == "/dev/sda2"
    assert alpha["luks"] == {"name": "alpha-luks", "namespace": "mtv"} and alpha["targetPowerState"] == "off"
    assert alpha["instanceType"] == "u1.medium"
    # Forklift ORs plan and VM flags: alpha's false only works with the plan-level flag off and beta's on
    assert plan["deleteVmOnFailMigration"] is False and "deleteVmOnFailMigration" not in alpha
    assert [h["step"] for h in alpha["hooks"]] == ["PreHook", "PostHook"]
    beta = next(v for v in plan["vms"] if v["name"] == "beta")
    assert [h["hook"]["name"] for h in beta["hooks"]] == ["t-prep"] and "targetName" not in beta
    assert beta["deleteVmOnFailMigration"] is True
    mig = built[("Migration", "t-wave1-2")]["spec"]
    assert mig["plan"] == {"name": "t-wave1", "namespace": "mtv"} and mig["cutover"] == "2027-01-09T22:00:00+01:00"
    assert mig["vmCutover"] == [{"id": "vm-2", "cutover": "2027-01-10T02:00:00Z"}]
    hook = built[("Hook", "t-prep")]["spec"]
    import base64
    assert base64.b64decode(hook["playbook"]).decode() == "- hosts: localhost\n  tasks: []\n"
    assert hook["serviceAccount"] == "hooks" and hook["deadline"] == 300


def test_external_source_emits_no_provider(tmp_path):
    spec = sitekit.BASE_SPEC.replace("  url: https://vc.example.com/sdk\n", "  url: https://vc.example.com/sdk\n"
                                     "  name: shared-vc\n  external: true\n")
    d = sitekit.make(tmp_path, spec)
    sitekit.lock(d)
    r = run(["build", "--now", NOW], tmp_path)
    assert r.exit_code == 0, r.output
    kinds = {p.name.split("-")[0] for p in out_objects(tmp_path / "out/t")}
    assert "provider" not in kinds and "externalsecret" not in kinds
    plan = yaml.safe_load(out_file(tmp_path / "out/t", "plan-t-wave1.yaml").read_text())
    assert plan["spec"]["provider"]["source"] == {"name": "shared-vc", "namespace": "openshift-mtv"}
