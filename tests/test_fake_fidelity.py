"""tests/fakecluster.py may never drift from the real API server again: on every path it
fakes, each key it serves must be one the real kube-apiserver sent on the same path
(tests/fixtures/real/, harvested by tests/e2e/harvest.py), with the same JSON type,
and the same status code. The fake may serve less than the real server, never other.

Status subtrees of Forklift objects are left out: no Forklift controller runs here to
write one (tests/status_fixtures.py mirrors the upstream Go structs instead)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest

import status_fixtures
from conftest import ROOT
from fakecluster import TOKEN, FakeCluster

REAL = ROOT / "tests" / "fixtures" / "real"
# values that are maps with arbitrary keys: their keys are data, not shape
MAPS = {"labels", "annotations", "data", "stringData", "fieldsV1", "parameters", "details"}


def shape(value, path="", skip_status=False) -> set[tuple[str, str]]:
    kind = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number",
            type(None): "null"}[type(value)]
    out = {(path, kind)}
    if isinstance(value, dict):
        for k, v in value.items():
            if skip_status and k == "status" and path.count(".") <= 2:
                continue
            out |= shape(v, f"{path}.{'*' if path.rsplit('.', 1)[-1] in MAPS else k}", skip_status)
    elif isinstance(value, list):
        for v in value:
            out |= shape(v, f"{path}[]", skip_status)
    return out


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    c = FakeCluster(tmp_path_factory.mktemp("fake"))
    st = c.state
    st.namespaces.add("dc1-apps")
    st.storage_classes["standard"] = "openshift-storage.rbd.csi.ceph.com"
    st.nads[("dc1-apps", "app-net")] = {"forklift.konveyor.io/route": "none"}
    st.service_accounts.add(("openshift-mtv", "mtv-hooks"))
    st.services.add(("openshift-mtv", "forklift-inventory"))
    st.routes[("openshift-mtv", "forklift-inventory")] = "inventory.apps.example.com"
    st.providers[("openshift-mtv", "vcenter-dc1")] = {"uid": "uid-vc", "type": "vsphere", "url": "https://vc/sdk"}
    st.vms["dc1-apps"] = ["app1"]
    st.quotas["dc1-apps"] = {"storage": ({"requests.storage": "2Ti"}, {"requests.storage": "0"})}
    st.crds = [json.loads((REAL / "crds.json").read_text())["body"]["items"][0]]
    plan = status_fixtures.FIXTURES["plan-ready"]
    plan["metadata"]["labels"] = {"mtvgen.io/site": "dc1", "mtvgen.io/plan": "databases"}
    run = status_fixtures.FIXTURES["migration-running"]
    run["metadata"]["labels"] = {"mtvgen.io/site": "dc1", "mtvgen.io/plan": "databases"}
    st.forklift[("plans", "openshift-mtv")] = [plan]
    st.forklift[("migrations", "openshift-mtv")] = [run]
    for plural, fixture in (("providers", "provider-ready"), ("hosts", "host-ready"),
                            ("networkmaps", "networkmap-ready"), ("storagemaps", "storagemap-class-missing"),
                            ("hooks", "hook-ready")):
        obj = status_fixtures.FIXTURES[fixture]
        obj["metadata"]["labels"] = {"mtvgen.io/site": "dc1"}
        st.forklift[(plural, "openshift-mtv")] = [obj]
    yield c
    c.close()


def _get(fake, path: str) -> tuple[int, dict]:
    ctx = ssl.create_default_context(cafile=fake.cert)
    req = urllib.request.Request(fake.url + path, headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


ANSWERS = sorted(p.stem for p in REAL.glob("*.json"))


def test_every_faked_path_has_a_harvested_answer():
    assert set(ANSWERS) >= {"version", "namespace", "storageclasses", "nads", "serviceaccount", "service", "providers",
                            "provider", "plans", "migrations", "virtualmachines", "route", "crds", "forbidden",
                            "site-providers", "hosts", "networkmaps", "storagemaps", "hooks", "resourcequotas"}


@pytest.mark.parametrize("name", ANSWERS)
def test_the_fake_answers_in_the_real_servers_shapes(fake, name):
    real = json.loads((REAL / f"{name}.json").read_text())
    if name == "forbidden":
        fake.state.deny.add(("list", "storageclasses", ""))
    try:
        code, body = _get(fake, real["path"])
    finally:
        fake.state.deny.clear()
    assert code == real["code"], body
    extra = shape(body, skip_status=True) - shape(real["body"], skip_status=True)
    assert extra == set(), f"the fake serves what the real server does not: {sorted(extra)}"
