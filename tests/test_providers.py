"""Provider-specific rules, from the bundled non-vSphere example sites."""

from __future__ import annotations

import json
from pathlib import Path

from compiler import lock as lockmod, render, spec, validate
from conftest import NOW, out_file, run


def _edit(path: Path, old: str, new: str):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _codes(repo, site, *, relock=True):
    if relock:
        r = run(["lock", f"sites/{site}", "--inventory", f"sites/{site}/inventory.yaml"], repo)
        assert r.exit_code == 0, r.output
    r = run(["check", f"sites/{site}", "--format", "json"], repo)
    return {d["code"]: d for d in json.loads(r.stdout)["diagnostics"]}


def test_ovirt_warm_needs_feature_flag(repo):
    _edit(repo / "sites/rhv-lab/site.yaml", "type: cold", "type: warm")
    assert _codes(repo, "rhv-lab")["MTV045"]["severity"] == "warning"


def test_openstack_image_backed_vm(repo):
    _edit(repo / "sites/openstack-east/inventory.yaml", "    status: SHUTOFF\n    imageID: \"\"\n",
          "    status: SHUTOFF\n    imageID: img-1\n")
    d = _codes(repo, "openstack-east")["MTV060"]
    assert "billing-01" in d["message"] and d["severity"] == "error"


def test_openshift_vm_without_namespace(repo):
    lock = repo / "sites/ocp-east/mtvgen.lock"
    doc = json.loads(lock.read_text())
    for rec in doc["vms"].values():
        del rec["namespace"]
    lock.write_text(json.dumps(doc))
    assert "has no namespace" in _codes(repo, "ocp-east", relock=False)["MTV064"]["message"]


def test_hosts_only_for_vsphere(repo):
    _edit(repo / "sites/rhv-lab/site.yaml", "  credentials:",
          "  hosts:\n    - name: rhvh01.lab.example.com\n  credentials:")
    r = run(["check", "sites/rhv-lab"], repo)
    assert r.exit_code == 1 and "error[MTV065]" in r.stdout and "site.yaml:9:5:" in r.stdout


def test_ova_url_must_be_an_nfs_export(repo):
    _edit(repo / "sites/ova-archive/site.yaml", "url: nfs.example.com:/exports/ova", "url: nfs.example.com/exports")
    r = run(["build", "sites/ova-archive"], repo)
    assert r.exit_code == 1
    assert "sites/ova-archive/site.yaml:7:8: error[MTV001]: source.url: 'nfs.example.com/exports' is not an NFS " \
           "export (server:/path)" in r.stderr


def test_generated_document_schema_failure_points_at_spec(repo):
    """What the schemas catch in a rendered document points at the spec line behind the field."""
    site = spec.load(repo / "sites/ova-archive")
    docs = render.render(site, lockmod.read(site))
    provider = next(d for d in docs if d.kind == "Provider")
    provider.body["spec"]["url"] = 42
    problems = validate.schema_errors(provider)
    assert [(p.code, p.location.line, p.location.col) for p in problems] == [("MTV099", 7, 8)]
    assert problems[0].message.startswith("Provider ova-archive: spec/url:")


def test_reference_integrity(repo):
    site = spec.load(repo / "sites/dc1")
    docs = render.render(site, lockmod.read(site))
    assert validate.references(site, docs) == []
    without_map = [d for d in docs if d.kind != "NetworkMap"]
    problems = validate.references(site, without_map)
    assert [p.code for p in problems] == ["MTV099", "MTV099"]
    assert "NetworkMap openshift-mtv/dc1-network" in problems[0].message
    without_hook = [d for d in docs if d.kind != "Hook"]
    problems = validate.references(site, without_hook)
    assert {p.message for p in problems} == {"Plan dc1-databases refers to Hook openshift-mtv/dc1-quiesce-db, which "
                                             "is neither generated nor declared external"}
    assert len(problems) == 2          # both VMs of the plan run the hook
    without_provider = [d for d in docs if not (d.kind == "Provider")]
    assert {p.message.split(" refers")[0] for p in validate.references(site, without_provider)} >= \
        {"Plan dc1-databases", "Plan dc1-web", "NetworkMap dc1-network", "StorageMap dc1-storage"}


def test_host_credentials_get_the_host_secret_conventions(tmp_path):
    import sitekit
    import yaml as _yaml
    spec_text = sitekit.BASE_SPEC.replace("    secret: vc-creds", "    secret: vc-creds\n  hosts:\n    - name: esx1\n"
                                          "      credentials:\n        externalSecret: {store: vault, key: esx/esx1}")
    d = sitekit.make(tmp_path, spec_text)
    sitekit.lock(d)
    r = run(["build", "--now", "2026-11-27T00:00:00Z"], tmp_path)
    assert r.exit_code == 0, r.output
    es = _yaml.safe_load(out_file(tmp_path / "out/t", "externalsecret-t-esx1-host.yaml").read_text())
    template = es["spec"]["target"]["template"]
    assert template["metadata"]["labels"] == {"createdForProviderType": "vsphere", "createdForResourceType": "hosts",
                                              "createdForResource": "host-1"}
    assert template["data"] == {"ip": "10.0.0.1", "provider": "t-vsphere"}
    assert {x["secretKey"] for x in es["spec"]["data"]} == {"user", "password", "ca.crt"}
    host = _yaml.safe_load(out_file(tmp_path / "out/t", "host-t-esx1.yaml").read_text())
    assert host["spec"]["secret"] == {"name": "t-esx1-host", "namespace": "openshift-mtv"}


def test_a_datavolume_template_without_a_class_takes_the_class_of_the_pvc_it_made(repo):
    """The template names no storageClassName: the DataVolume's PVC got the cluster's default
    class, and Forklift reads it there. mtvgen locked the disk's storage as '' (MTV070)."""
    import yaml
    path = repo / "sites/ocp-east/inventory.yaml"
    inv = yaml.safe_load(path.read_text())
    vm = next(v for v in inv["vms"] if v["name"] == "api-gateway")
    vm["object"]["spec"]["dataVolumeTemplates"][0]["spec"] = {"storage": {"resources": {"requests": {"storage": "30Gi"}}}}
    inv["persistentvolumeclaims"].append({
        "uid": "0c9b7e21-0000-0000-0000-00000000b002", "version": "9200", "namespace": "payments",
        "name": "api-gateway-root", "object": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                                 "metadata": {"name": "api-gateway-root", "namespace": "payments"},
                                                 "spec": {"storageClassName": "ocs-storagecluster-ceph-rbd",
                                                          "resources": {"requests": {"storage": "30Gi"}}}}})
    path.write_text(yaml.safe_dump(inv, sort_keys=False))
    r = run(["lock", "sites/ocp-east", "--inventory", "sites/ocp-east/inventory.yaml"], repo)
    assert r.exit_code == 0, r.output
    r = run(["build", "sites/ocp-east", "--now", NOW], repo)
    assert r.exit_code == 0 and "MTV070" not in r.output, r.output


# ---- ec2, hyperv, nutanix (issue 22 item 3): the example sites build; what each type needs


def _docs(repo, site):
    import yaml
    return {d["kind"] + "/" + d["metadata"]["name"]: d
            for p in sorted((repo / "out" / site).rglob("*.yaml")) if p.name != "kustomization.yaml"
            for d in yaml.safe_load_all(p.read_text()) if d}


def _secret_keys(es: dict) -> tuple[set, set]:
    """(keys fetched from the store, keys written in the template) of an ExternalSecret."""
    return ({x["secretKey"] for x in es["spec"]["data"]}, set(es["spec"]["target"]["template"].get("data") or {}))


def test_the_three_new_source_types_build_the_secret_and_provider_forklift_reads(repo):
    assert run(["build", "--now", NOW], repo).exit_code == 0
    ec2 = _docs(repo, "ec2-west")
    assert ec2["Provider/ec2-west"]["spec"] == {"type": "ec2", "secret": {"name": "ec2-west-credentials",
                                                                           "namespace": "openshift-mtv"},
                                                 "settings": {"target-az": "us-west-2a"}}
    # pkg/provider/ec2/inventory/client/client.go: region, accessKeyId, secretAccessKey
    assert _secret_keys(ec2["ExternalSecret/ec2-west-credentials"]) == ({"accessKeyId", "secretAccessKey"},
                                                                        {"region"})
    hv = _docs(repo, "hyperv-lab")
    # pkg/controller/hyperv/secret.go: username, password, smbUrl
    assert _secret_keys(hv["ExternalSecret/hyperv-lab-credentials"]) == ({"username", "password"},
                                                                         {"smbUrl", "url", "insecureSkipVerify"})
    nx = _docs(repo, "nutanix-east")
    assert _secret_keys(nx["ExternalSecret/nutanix-east-credentials"]) == ({"user", "password"},
                                                                           {"url", "insecureSkipVerify"})
    # maps name what Forklift's builders look up: a subnet id, a volume type, a switch, a container
    ec2_net = ec2["NetworkMap/ec2-west-network"]["spec"]["map"][0]["source"]
    assert ec2_net["id"] == "subnet-0a1b2c3d"
    assert {m["source"]["id"] for m in ec2["StorageMap/ec2-west-storage"]["spec"]["map"]} == {"gp3", "io2"}
    assert hv["StorageMap/hyperv-lab-storage"]["spec"]["map"][0]["source"]["id"] == "storage-0"
    plan = nx["Plan/nutanix-east-erp"]["spec"]
    assert [v["id"] for v in plan["vms"]] == ["8a8a0000-0000-0000-0000-00000000v001"]


def test_ec2_needs_its_region_and_zone_and_no_url(repo):
    site = repo / "sites/ec2-west/site.yaml"
    _edit(site, "    data: {region: us-west-2}\n", "")
    _edit(site, "  settings: {target-az: us-west-2a}\n", "  url: https://ec2.us-west-2.amazonaws.com\n")
    r = run(["check", "sites/ec2-west", "--now", NOW], repo)
    assert r.exit_code == 1
    assert "error[MTV005]: the source (ec2) needs 'region' in its Secret" in r.stdout
    assert "error[MTV001]: source.settings.target-az is missing: a ec2 Provider needs it" in r.stdout
    assert "error[MTV001]: source.url: a ec2 Provider has no URL (its region says where)" in r.stdout


def test_hyperv_needs_its_smb_share(repo):
    _edit(repo / "sites/hyperv-lab/site.yaml", "    data: {smbUrl: //fs01.lab.example.com/VMShare}\n", "")
    r = run(["check", "sites/hyperv-lab", "--now", NOW], repo)
    assert r.exit_code == 1 and "error[MTV005]: the source (hyperv) needs 'smbUrl' in its Secret" in r.stdout


def test_the_new_types_migrate_cold_only(repo):
    for site in ("ec2-west", "hyperv-lab", "nutanix-east"):
        text = (repo / f"sites/{site}/site.yaml").read_text()
        (repo / f"sites/{site}/site.yaml").write_text(text.replace("plans:\n  - name:", "plans:\n  - type: warm\n    name:"))
        codes = _codes(repo, site, relock=False)
        # each plan validator's WarmMigration() is false (adapter/hyperv, adapter/nutanix, ec2 validator)
        assert "MTV040" in codes and "not 'warm'" in codes["MTV040"]["message"], codes


def test_readers_take_the_facts_where_each_type_keeps_them(repo):
    lock = json.loads((repo / "sites/nutanix-east/mtvgen.lock").read_text())
    vm = next(iter(lock["vms"].values()))
    assert (vm["cpuCount"], vm["memoryMiB"], vm["firmware"], len(vm["disks"])) == (4, 16384, "efi", 1)  # no CD-ROM
    assert vm["tags"] == [["env", "prod"]]
    lock = json.loads((repo / "sites/ec2-west/mtvgen.lock").read_text())
    assert [d["capacity"] >> 30 for d in lock["vms"]["i-0123456789abcdef0"]["disks"]] == [30, 200]
    lock = json.loads((repo / "sites/hyperv-lab/mtvgen.lock").read_text())
    vm = next(iter(lock["vms"].values()))
    assert (vm["cpuCount"], vm["memoryMiB"], vm["firmware"]) == (4, 16384, "efi")
