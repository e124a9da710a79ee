"""The whole upstream Plan API is expressible: a walk of the Plan CRD fails on any field
that is neither an option of the site spec nor derived (with its reason) in
compiler.tables; every option lands where Forklift reads it, and passes the CRD."""

from __future__ import annotations

import yaml

import crd_conformance
import sitekit
from compiler import spec, tables
from conftest import out_objects, run

NOW = "2026-11-27T00:00:00+00:00"


def _crd_plan_spec() -> dict:
    crd_conformance.require()
    crd = yaml.safe_load((crd_conformance.CRDS / "forklift.konveyor.io_plans.yaml").read_text())
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1beta1")
    return version["schema"]["openAPIV3Schema"]["properties"]["spec"]


def test_every_plan_field_is_an_option_or_derived_with_a_reason():
    upstream = _crd_plan_spec()
    plan_fields = set(upstream["properties"])
    vm_fields = set(upstream["properties"]["vms"]["items"]["properties"])
    as_option = set(spec.PLAN_OPTIONS) | (set(spec.VM_OPTIONS) & (set(tables.PLAN_SPEC_FIELDS)
                                                                  | set(tables.PLAN_TRUE_DEFAULTS)))
    missing = plan_fields - as_option - set(tables.PLAN_DERIVED)
    assert not missing, f"Plan fields neither an option nor in tables.PLAN_DERIVED: {sorted(missing)}"
    vm_missing = vm_fields - set(tables.PLAN_VM_FIELDS) - set(tables.PLAN_VM_DERIVED)
    assert not vm_missing, f"Plan vms[] fields neither an option nor in tables.PLAN_VM_DERIVED: {sorted(vm_missing)}"
    # and nothing we claim is stale or said twice
    assert set(tables.PLAN_DERIVED) <= plan_fields and set(tables.PLAN_VM_DERIVED) <= vm_fields
    assert not (set(tables.PLAN_DERIVED) & as_option)
    assert set(tables.PLAN_SPEC_FIELDS) <= plan_fields and set(tables.PLAN_VM_FIELDS) <= vm_fields


SPEC = sitekit.BASE_SPEC.replace("plans:\n", """\
defaults:
  convertorLabels: {team: migration}
  convertorNodeSelector: {node-role.kubernetes.io/v2v: ""}
  xfsCompatibility: true
plans:
""").replace("""    select:
      - folder: /DC/vm/prod
""", """    select:
      - folder: /DC/vm/prod
    targetAffinity:
      podAntiAffinity:
        preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm: {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}}
    convertorAffinity:
      nodeAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms: [{matchExpressions: [{key: fast-disk, operator: Exists}]}]
    conversionTempStorageClass: scratch
    conversionTempStorageSize: 50Gi
    customizationScripts: scripts/firstboot
    deleteGuestConversionPod: true
    enableNestedVirtualization: false
    installLegacyDrivers: true
    pvcNameTemplateUseGenerateName: false
    rdmAsLun: true
    scsiReservation: true
    skipZoneNodeSelector: true
    tagMapping: {labelTags: [env, tier]}
    vms:
      - match: alpha
        enableNestedVirtualization: true
        rdmAsLun: false
""")


def test_every_new_option_lands_in_the_plan_and_passes_the_crd(tmp_path):
    d = sitekit.make(tmp_path, SPEC)
    sitekit.lock(d)
    r = run(["build", "--now", NOW], tmp_path)
    assert r.exit_code == 0, r.output
    plans = [yaml.safe_load(p.read_text()) for p in out_objects(tmp_path / "out" / "t")]
    plan = next(p for p in plans if p["kind"] == "Plan")
    s = plan["spec"]
    assert s["convertorLabels"] == {"team": "migration"} and s["xfsCompatibility"] is True
    assert s["convertorNodeSelector"] == {"node-role.kubernetes.io/v2v": ""}
    assert s["targetAffinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["weight"] == 100
    assert s["convertorAffinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert s["customizationScripts"] == {"name": "firstboot", "namespace": "scripts"}
    assert (s["conversionTempStorageClass"], s["conversionTempStorageSize"]) == ("scratch", "50Gi")
    assert s["tagMapping"] == {"labelTags": ["env", "tier"]}
    assert (s["rdmAsLun"], s["scsiReservation"], s["enableNestedVirtualization"]) == (True, True, False)
    web = next(v for v in s["vms"] if v["name"] == "alpha")
    assert (web["enableNestedVirtualization"], web["rdmAsLun"]) == (True, False)
    others = [v for v in s["vms"] if v["name"] != "alpha"]
    assert others and all("rdmAsLun" not in v for v in others)
    assert crd_conformance.errors(plan) == []


def test_luks_is_refused_where_the_plan_webhook_refuses_it(repo):
    site = repo / "sites" / "rhv-lab" / "site.yaml"           # oVirt: the webhook refuses vms[].luks
    text = site.read_text()
    site.write_text(text.replace("      - match: Jenkins CI\n", "      - match: Jenkins CI\n        luksSecret: ci-luks\n", 1))
    r = run(["check", "sites/rhv-lab", "--now", NOW], repo)
    assert r.exit_code == 1 and "MTV046" in r.output and "luksSecret on a ovirt source" in r.output
    assert [line for line in r.output.splitlines() if "MTV046" in line][0].startswith("sites/rhv-lab/site.yaml:3")


def test_luks_passes_on_vsphere(tmp_path):
    d = sitekit.make(tmp_path, SPEC.replace("        rdmAsLun: false\n", "        luksSecret: alpha-luks\n"))
    sitekit.lock(d)
    r = run(["check", "--now", NOW], tmp_path)
    assert r.exit_code == 0, r.output
    assert "MTV046" not in r.output and "MTV047" not in r.output


def test_scsi_reservation_alone_has_no_effect(tmp_path):
    d = sitekit.make(tmp_path, SPEC.replace("    rdmAsLun: true\n", ""))
    sitekit.lock(d)
    r = run(["check", "--now", NOW], tmp_path)
    assert "MTV047" in r.output and "scsiReservation without rdmAsLun" in r.output
