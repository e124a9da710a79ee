"""A factory run's end on the real kube-apiserver (issue 21): the Plan and Migration the
build wrote are applied as Argo CD applies them, the run's status is written through
the status subresource as the controller writes it (tests/status_fixtures.a_run; the
CRDs' status schemas judge its shape and must keep all of it), then `status --record`
keeps what the run did and `done --context` records in the ledger what the server says
succeeded."""

from __future__ import annotations

import json
import shutil

import yaml

import status_fixtures as fx
from conftest import NOW, ROOT, run

from .test_apply import apply, differences, documents, namespaces


def test_record_and_done_read_a_finished_run_from_the_real_server(controlplane, tmp_path):
    cp = controlplane
    shutil.copytree(ROOT / "sites", tmp_path / "sites")
    assert run(["start", "sites/factory", "finance"], tmp_path).exit_code == 0
    r = run(["build", "--now", NOW], tmp_path)
    assert r.exit_code == 0, r.output
    units = [tmp_path / "out/factory/plans/finance/plan", tmp_path / "out/factory/plans/finance/run"]
    docs = [d for u in units for d in documents(cp, u)]
    for ns in sorted(namespaces(docs) | {"openshift-mtv"}):
        cp.kubectl("create", "namespace", ns, check=False)
    apply(cp, docs)
    lock = json.loads((tmp_path / "sites/factory/mtvgen.lock").read_text())
    vms = [(i, lock["vms"][i]["name"]) for i in lock["plans"]["finance"]]
    plan_status, run_status = fx.a_run(vms)
    for kind, name, status in (("plan", "factory-finance", plan_status),
                               ("migration", "factory-finance-1", run_status)):
        r = cp.kubectl("patch", kind, name, "-n", "openshift-mtv", "--subresource=status", "--type=merge",
                       "-p", json.dumps({"status": status}), "-o", "json", check=False)
        assert r.returncode == 0, r.stderr
        assert differences(json.loads(r.stdout)["status"], status) == [], f"{kind}: the server kept other than written"
    kube = ["--kubeconfig", str(cp.kubeconfig), "--context", "e2e"]
    r = run(["status", "sites/factory", *kube, "--record"], tmp_path)
    assert r.exit_code == 0, r.output
    assert "factory-finance  Succeeded: 50/50 succeeded" in r.stdout
    assert "recorded sites/factory/throughput.yaml: 50 VM(s)" in r.stderr
    runs = yaml.safe_load((tmp_path / "sites/factory/throughput.yaml").read_text())["runs"]
    assert len(runs) == 50 and {(x["copiedMiB"], x["copySeconds"], x["conversionSeconds"]) for x in runs} == \
        {(8590 * 10**6 // 2**20, 240.0, 360.0)}
    r = run(["done", "sites/factory", "finance", *kube], tmp_path)
    assert r.exit_code == 0, r.output
    assert "50 VM(s) recorded as moved in sites/ledger.yaml (50 new)" in r.stderr
    moved = yaml.safe_load((tmp_path / "sites/ledger.yaml").read_text())["moved"]
    assert sorted(m["id"] for m in moved) == sorted(lock["plans"]["finance"])
    assert {m["migration"] for m in moved} == {"factory-finance-1"}
