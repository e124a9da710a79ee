"""mtvgen's clients and claims against the real kube-apiserver: the harvested answers
the fast suite trusts are still what the server sends, `mtvgen status` reads what the
build wrote, a role-less user gets mtvgen's one-line 403, and strict field validation
is what stands between a Plan and a silently dropped field."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, run
from test_fake_fidelity import shape

from . import harvest


@pytest.fixture(scope="module")
def seeded(controlplane):
    harvest.seed(controlplane)
    return controlplane


def test_the_harvested_answers_are_still_the_servers_shapes(seeded):
    """A harvest anew gives the shapes tests/fixtures/real/ holds: the fake's judge is current.
    (`python -m tests.e2e.harvest` rewrites them.)"""
    found = harvest.harvest(seeded)

    def essential(body):    # who applied an object (managedFields) and a status other tests wrote vary
        return {(p, k) for p, k in shape(body, skip_status=True) if "managedFields" not in p}
    for name, answer in found.items():
        kept = json.loads((harvest.FIXTURES / f"{name}.json").read_text())
        assert (answer["code"], essential(answer["body"])) == (kept["code"], essential(kept["body"])), name


def test_status_reads_the_objects_the_build_wrote(seeded):
    kubeconfig = str(seeded.kubeconfig)
    r = run(["status", "sites/dc1", "--kubeconfig", kubeconfig, "--context", "e2e", "-o", "json"], ROOT)
    assert r.exit_code == 0, r.output
    plans = {p["plan"]: p for p in json.loads(r.stdout)["sites"][0]["plans"]}
    # no controller: the objects are there with no status yet
    assert plans["databases"]["found"] and plans["databases"]["migration"] == "dc1-databases-1"
    assert (plans["databases"]["health"], plans["databases"]["message"]) == ("Progressing", "Waiting for plan validation")
    assert plans["databases"]["run_health"] == "Progressing"


def test_a_user_without_a_role_gets_one_line_naming_the_permission(seeded):
    r = run(["status", "sites/dc1", "--kubeconfig", str(seeded.kubeconfig), "--context", "nobody"], ROOT)
    assert r.exit_code == 2, r.output
    assert r.stderr.count("error:") == 1 and "Traceback" not in r.stderr
    assert "context 'nobody' may not list plans.forklift.konveyor.io in namespace openshift-mtv" in r.stderr


def test_an_unknown_plan_field_fails_a_server_side_apply_and_vanishes_from_a_client_side_one(controlplane):
    """Why mtvgen validates against the target's own CRDs (issue 23, item 7), on the real
    server: a server-side apply (Flux; Argo CD with ServerSideApply=true) of a Plan field the
    CRD does not declare fails, whatever the client's validation; a client-side apply with
    validation off (Argo CD's Validate=false) stores the Plan without the field, silently."""
    cp = controlplane
    cp.kubectl("create", "namespace", "openshift-mtv", check=False)
    plan = {"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Plan",
            "metadata": {"name": "strictness", "namespace": "openshift-mtv"},
            "spec": {"provider": {"source": {"name": "s", "namespace": "openshift-mtv"},
                                  "destination": {"name": "d", "namespace": "openshift-mtv"}},
                     "map": {"network": {"name": "n", "namespace": "openshift-mtv"},
                             "storage": {"name": "s", "namespace": "openshift-mtv"}},
                     "targetNamespace": "apps", "vms": [{"id": "vm-1"}], "warmish": True}}
    for validate in ("strict", "false"):
        r = cp.kubectl("apply", "--server-side", f"--validate={validate}", "-f", "-", input=json.dumps(plan),
                       check=False)
        assert r.returncode != 0 and ".spec.warmish: field not declared in schema" in r.stderr, r.stderr
    r = cp.kubectl("apply", "--validate=false", "-f", "-", input=json.dumps(plan), check=False)
    assert r.returncode == 0, r.stderr
    live = json.loads(cp.kubectl("get", "plan", "-n", "openshift-mtv", "strictness", "-o", "json").stdout)
    assert "warmish" not in live["spec"] and live["spec"]["targetNamespace"] == "apps"
