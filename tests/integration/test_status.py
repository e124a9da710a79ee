"""`mtvgen status` against the local API server fake, serving Plans and Migrations
in the upstream status shapes (tests/status_fixtures.py cites the structs), and
held to the same table as the Argo CD health checks."""

from __future__ import annotations

import copy
import json
import shutil

import pytest
import yaml

from compiler.delivery import health as health_table
from compiler.status import health
from conftest import ROOT, run
from compiler.inventory.kube import SETUP_PLURALS
from fakecluster import KINDS, FakeCluster
from status_fixtures import FIXTURES

NS = "openshift-mtv"
ROWS = [c for c in health_table.SEMANTICS if c.kind in health.ASSESS]


def test_cluster_text_is_shown_as_text_not_markup_or_terminal_control(repo, cluster, monkeypatch):
    """A VM's name and error come from whoever can name a VM: `[/bold]` crashed rich (exit 3),
    `[link=...]` made a clickable link, and escape sequences reached the terminal."""
    monkeypatch.setenv("COLUMNS", "200")
    cluster.state.forklift[("plans", NS)] = [_as("plan-executing", "factory-finance", "factory", "finance")]
    run = _as("migration-failed", "factory-finance-1", "factory", "finance",
              plan={"name": "factory-finance", "namespace": NS})
    bad = next(v for v in run["status"]["vms"] if v.get("error"))
    bad["name"] = "[/bold]db\x1b[2J"
    bad["error"]["reasons"] = ["[link=http://evil.example]click[/link]"]
    cluster.state.forklift[("migrations", NS)] = [run]
    r = status(repo, cluster)
    assert r.exit_code == 1, r.output                   # a failed run: not an internal error
    assert "[/bold]db\\x1b[2J" in r.stdout and "\x1b" not in r.stdout
    assert "[link=http://evil.example]click[/link]" in r.stdout


@pytest.mark.parametrize("case", ROWS, ids=[c.fixture for c in ROWS])
def test_status_judges_like_the_argocd_health_check(case):
    status, message = health.ASSESS[case.kind](FIXTURES[case.fixture])
    assert status == case.argocd and case.words in message, message


def test_python_and_lua_messages_are_the_same(tmp_path):
    """Word for word, on every fixture: the status view and Argo CD never disagree."""
    import test_health
    runner = test_health.LUA
    if not runner.exists():
        pytest.fail("argocd-lua (e2e/argocd) is not built; scripts/test builds it (scripts/build-go)")
    for case in ROWS:
        lua = test_health.argocd_status(runner, case.kind, FIXTURES[case.fixture], tmp_path)
        assert health.ASSESS[case.kind](FIXTURES[case.fixture]) == lua, case.fixture


@pytest.fixture
def cluster(tmp_path):
    c = FakeCluster(tmp_path)
    yield c
    c.close()


@pytest.fixture
def repo(tmp_path):
    shutil.copytree(ROOT / "sites", tmp_path / "sites")
    return tmp_path


def _as(fixture: str, name: str, site: str, label: str, **spec) -> dict:
    obj = copy.deepcopy(FIXTURES[fixture])
    obj["metadata"].update(name=name, labels={"mtvgen.io/site": site, "mtvgen.io/plan": label})
    obj["spec"].update(spec)
    return obj


def status(repo, cluster, *extra):
    return run(["status", "sites/factory", "--kubeconfig", cluster.kubeconfig, "--context", "test", *extra], repo)


def test_status_of_a_site_in_json(repo, cluster):
    plan = "factory-finance"
    cluster.state.forklift[("plans", NS)] = [
        _as("plan-failed", plan, "factory", "finance"),
        _as("plan-ready", "factory-web-01", "factory", "web-01"),
        _as("plan-ready", "someone-elses", "other", "x"),              # another site's: not shown
        _as("plan-failed", "other-web-02", "other", "web-02"),          # another site's plan of the same name
    ]
    cluster.state.forklift[("migrations", NS)] = [
        _as("migration-failed", "factory-finance-1", "factory", "finance", plan={"name": plan, "namespace": NS})]
    r = status(repo, cluster, "-o", "json")
    assert r.exit_code == 1, r.output                                   # a run failed
    report = json.loads(r.stdout)
    plans = {p["plan"]: p for p in report["sites"][0]["plans"]}
    assert report["sites"][0]["context"] == "test" and report["failed"] is True
    assert list(plans) == ["finance", "web-01", "web-02", "web-03"]
    fin = plans["finance"]
    assert (fin["health"], fin["migration"], fin["run_health"]) == ("Healthy", "factory-finance-1", "Degraded")
    assert fin["counts"] == {"Succeeded": 47, "Failed": 3, "Canceled": 0, "Running": 0, "Queued": 0, "total": 50}
    failed = [v for v in fin["vms"] if v["outcome"] == "Failed"]
    assert failed[0]["error"].startswith("Import DataVolume failed") and failed[0]["total_mb"] == 10240
    assert (plans["web-02"]["found"], plans["web-02"]["health"]) == (False, "Missing")
    assert "labelSelector=mtvgen.io/site%3Dfactory" in cluster.state.queries[-1]   # asked the server to filter
    assert yaml.safe_load(status(repo, cluster, "-o", "yaml").stdout) == report


def test_an_object_of_an_unexpected_shape_is_unknown_not_a_crash(repo, cluster):
    """A Plan whose status is not the shape Forklift writes (here conditions is a number)
    is shown Unknown with the reason, the other plans as usual, and exit 1: as Argo CD
    shows a resource whose health script fails. Before, it was an internal error (exit 3)."""
    odd = _as("plan-ready", "factory-finance", "factory", "finance")
    odd["status"]["conditions"] = 1.5
    cluster.state.forklift[("plans", NS)] = [odd, _as("plan-ready", "factory-web-01", "factory", "web-01")]
    cluster.state.forklift[("migrations", NS)] = []
    r = status(repo, cluster, "-o", "json")
    assert r.exit_code == 1, r.output
    plans = {p["plan"]: p for p in json.loads(r.stdout)["sites"][0]["plans"]}
    assert plans["finance"]["health"] == "Unknown"
    assert plans["finance"]["message"].startswith("the Plan or its Migration has an unexpected shape (TypeError")
    assert plans["web-01"]["health"] == "Healthy"


def test_status_text_view(repo, cluster, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    cluster.state.forklift[("plans", NS)] = [_as("plan-executing", "factory-finance", "factory", "finance")]
    cluster.state.forklift[("migrations", NS)] = [
        _as("migration-warm-no-cutover", "factory-finance-1", "factory", "finance",
            plan={"name": "factory-finance", "namespace": NS})]
    r = status(repo, cluster)
    assert r.exit_code == 0, r.output
    text = r.stdout
    assert "site factory" in text and "[Healthy] factory-finance" in text
    assert "[Suspended] factory-finance-1  Warm precopies running, no cutover set" in text
    # nobody needs to look at a VM of this run: they are counted, not listed
    assert "3 more VM(s): 2 running, 1 queued (--vms lists every VM)" in text and "DiskTransfer" not in text
    assert "[Missing] factory-web-01" in text
    r = status(repo, cluster, "--vms", "--plan", "finance")
    assert r.exit_code == 0, r.output
    assert "4,096/10,240 MB" in r.stdout and "DiskTransfer" in r.stdout     # the running VM's disk copy
    assert "Queued" in r.stdout                                             # the VM over the in-flight limit
    assert "factory-web" not in r.stdout and "more VM(s)" not in r.stdout
    r = status(repo, cluster, "--plan", "web", "-o", "json")               # a batched plan: all its batches
    assert [p["plan"] for p in json.loads(r.stdout)["sites"][0]["plans"]] == ["web-01", "web-02", "web-03"]
    r = status(repo, cluster, "--plan", "web-02", "-o", "json")
    assert [p["plan"] for p in json.loads(r.stdout)["sites"][0]["plans"]] == ["web-02"]
    r = status(repo, cluster, "--plan", "nope")
    assert r.exit_code == 2 and "no site has a plan named nope" in r.output


def test_the_text_view_lists_the_vms_that_need_a_person(repo, cluster, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    cluster.state.forklift[("plans", NS)] = [_as("plan-failed", "factory-finance", "factory", "finance")]
    cluster.state.forklift[("migrations", NS)] = [_as("migration-failed", "factory-finance-1", "factory", "finance",
                                                      plan={"name": "factory-finance", "namespace": NS})]
    r = status(repo, cluster, "--plan", "finance")
    vms = FIXTURES["migration-failed"]["status"]["vms"]
    failed = [v["name"] for v in vms if v.get("error")]
    assert failed and all(name in r.stdout for name in failed)
    assert all(v["name"] not in r.stdout for v in vms if not v.get("error"))


PLURAL = {kind: plural for plural, kind in KINDS.items() if plural in SETUP_PLURALS}


@pytest.mark.parametrize("case", ROWS, ids=[c.fixture for c in ROWS])
def test_every_status_case_through_the_cli(repo, cluster, case):
    if case.kind in PLURAL:        # what the plans stand on: judged, listed by kind and name
        cluster.state.forklift[(PLURAL[case.kind], NS)] = [_as(case.fixture, "vcenter-factory", "factory", "")]
        r = status(repo, cluster, "-o", "json")
        setup = json.loads(r.stdout)["sites"][0]["setup"]
        assert [(o["kind"], o["name"], o["health"]) for o in setup] == [(case.kind, "vcenter-factory", case.argocd)]
        assert case.words in setup[0]["message"]
        assert r.exit_code == (1 if case.argocd == "Degraded" else 0)
        return
    if case.kind == "Plan":
        cluster.state.forklift[("plans", NS)] = [_as(case.fixture, "factory-finance", "factory", "finance")]
    else:
        cluster.state.forklift[("plans", NS)] = [_as("plan-ready", "factory-finance", "factory", "finance")]
        cluster.state.forklift[("migrations", NS)] = [
            _as(case.fixture, "factory-finance-1", "factory", "finance",
                plan={"name": "factory-finance", "namespace": NS})]
    r = status(repo, cluster, "-o", "json")
    fin = json.loads(r.stdout)["sites"][0]["plans"][0]
    got = fin["health"] if case.kind == "Plan" else fin["run_health"]
    assert got == case.argocd
    assert r.exit_code == (1 if case.argocd == "Degraded" else 0)


def test_status_needs_a_reachable_cluster(repo, tmp_path):
    r = run(["status", "sites/factory", "--kubeconfig", str(tmp_path / "none")], repo)
    assert r.exit_code == 2 and "Traceback" not in r.output


def _serve_run(cluster, migration_fixture: str) -> None:
    cluster.state.forklift[("plans", NS)] = [_as("plan-executing", "dc1-databases", "dc1", "databases")]
    cluster.state.forklift[("migrations", NS)] = [_as(migration_fixture, "dc1-databases-1", "dc1", "databases",
                                                      plan={"name": "dc1-databases", "namespace": NS})]


def test_done_reads_the_runs_facts_from_the_cluster(repo, cluster):
    """`done --context` refuses a run the cluster still runs and writes nothing; once the
    run has ended it marks the plan done and freezes it, as with a saved status."""
    spec_file = repo / "sites" / "dc1" / "site.yaml"
    before = spec_file.read_text()
    done = ["done", "sites/dc1", "databases", "--kubeconfig", cluster.kubeconfig, "--context", "test"]
    _serve_run(cluster, "migration-running")
    r = run(done, repo)
    assert r.exit_code == 2 and "plan 'databases' is not done on the cluster" in r.stderr, r.output
    assert "the cluster (test)" in r.stderr and spec_file.read_text() == before
    _serve_run(cluster, "migration-failed")
    r = run(done, repo)
    assert r.exit_code == 0, r.output
    assert "+    done: true" in r.stdout and "without the run's facts" not in r.stderr
    lock = json.loads((repo / "sites" / "dc1" / "mtvgen.lock").read_text())
    assert "databases" in lock["frozen"] and "databases" not in lock.get("started", {})
    failed = [v["id"] for v in FIXTURES["migration-failed"]["status"]["vms"] if v.get("error")]
    assert failed and lock["released"] == {"databases": failed}
    r = run(done + ["--status", str(spec_file)], repo)
    assert r.exit_code == 2 and "not both" in r.output


def test_watch_into_a_pipe_writes_a_line_a_plan_not_a_redrawn_screen(repo, cluster):
    """--watch wrote nothing when stdout was not a terminal (a CI log, `| tee`)."""
    cluster.state.forklift[("plans", NS)] = [_as("plan-failed", "factory-finance", "factory", "finance")]
    cluster.state.forklift[("migrations", NS)] = [_as("migration-failed", "factory-finance-1", "factory", "finance",
                                                      plan={"name": "factory-finance", "namespace": NS})]
    r = status(repo, cluster, "--watch", "--interval", "0.1")
    assert r.exit_code == 1, r.output                        # the run failed: settled, and a person is needed
    lines = r.stdout.splitlines()
    assert [line.split(" ", 2)[1] for line in lines] == ["factory/finance", "factory/web-01", "factory/web-02",
                                                         "factory/web-03"]
    assert all(len(line.split(" ", 1)[0]) == 20 and line.split(" ", 1)[0].endswith("Z") for line in lines)
    assert "run factory-finance-1 [Degraded]" in lines[0] and "VMs: 47 succeeded, 3 failed" in lines[0]
    assert "\x1b" not in r.stdout


def test_status_says_what_git_intends_and_why_the_cluster_does_not_show_it(repo):
    """Batch 1 started in Git, no Migration on the cluster yet: it showed `[Healthy] Ready`
    and nothing about the run Git asks for."""
    from datetime import datetime, timezone

    from compiler import lifecycle, lock as lockmod, spec
    from compiler.status.model import site_status
    text = (repo / "sites/factory/site.yaml").read_text()
    text = text.replace("    batch: {maxVMs: 20}\n", "    batch: {maxVMs: 20}\n    start: {batches: [1]}\n", 1)
    text = text.replace("      - folder: /DC1/vm/Finance\n", "      - folder: /DC1/vm/Finance\n    start: true\n", 1)
    (repo / "sites/factory/site.yaml").write_text(text)
    site = spec.load(repo / "sites/factory")
    site = lifecycle.expand(site, lockmod.read(site))
    ready = [_as("plan-ready", f"factory-{p}", "factory", p) for p in ("finance", "web-01")]
    got = site_status(site, "test", ready, [], now=datetime(2026, 12, 6, 0, 0, tzinfo=timezone.utc))
    intents = {p.plan: p.intent for p in got.plans}
    assert intents == {
        "finance": "Git starts attempt 1: Migration factory-finance-1 is not on the cluster yet (not synced?)",
        "web-01": "Git starts attempt 1: its Migration factory-web-01-1 waits for wave 2's window at "
                  "2026-12-12 20:00 UTC",
        "web-02": "", "web-03": ""}                      # not started in Git: nothing is expected
    from compiler.status import view
    from compiler.status.model import StatusReport
    line = view.lines(StatusReport(sites=(got,)))["factory/web-01"]
    assert line.endswith("; Git starts attempt 1: its Migration factory-web-01-1 waits for wave 2's window at "
                         "2026-12-12 20:00 UTC")
    import io

    from rich.console import Console
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(view.tree(StatusReport(sites=(got,))))
    assert "-> Git starts attempt 1: Migration factory-finance-1 is not on the cluster yet (not synced?)" in \
        out.getvalue()


def test_what_the_plans_stand_on_is_shown_when_it_needs_a_person(repo, cluster, monkeypatch):
    """A Provider whose credentials were rejected is why no plan of the site runs: status
    names it first (its Secret is judged through it); Healthy objects are counted."""
    monkeypatch.setenv("COLUMNS", "200")
    cluster.state.forklift[("providers", NS)] = [_as("provider-auth-failed", "vcenter-factory", "factory", "")]
    cluster.state.forklift[("networkmaps", NS)] = [_as("networkmap-ready", "factory-network", "factory", "")]
    storage = [_as("networkmap-ready", "factory-storage", "factory", ""),
               _as("networkmap-ready", "other-storage", "other", "")]      # another site's: not shown
    for o in storage:
        o["kind"] = "StorageMap"
    cluster.state.forklift[("storagemaps", NS)] = storage
    r = status(repo, cluster)
    assert r.exit_code == 1, r.output
    auth = FIXTURES["provider-auth-failed"]["status"]["conditions"]
    why = next(c for c in auth if c["type"] == "ConnectionAuthFailed")
    assert f"[Degraded] Provider vcenter-factory  ConnectionAuthFailed: {why['message']}" in r.stdout
    assert "[Healthy] 1 NetworkMap, 1 StorageMap" in r.stdout and "other-storage" not in r.stdout


def test_problems_on_the_cluster_point_at_the_spec_lines_behind_them(repo, cluster):
    """Issue 21 item 4: `status --format github|sarif`: a blocked Plan at the selector of the
    VMs it names, a failed VM at the selector that brought it in, a blocked map at the
    entry of the source it does not find, a Provider at `source:`."""
    text = (repo / "sites/factory/site.yaml").read_text().splitlines()
    select = next(i for i, line in enumerate(text, 1) if "folder: /DC1/vm/Finance" in line)
    web = next(i for i, line in enumerate(text, 1) if "- name: web" in line)
    blocked = _as("plan-blocked", "factory-web-01", "factory", "web-01")
    blocked["status"]["conditions"][0]["items"] = ["id:vm-2003 name:'web-003'"]
    cluster.state.forklift[("plans", NS)] = [_as("plan-failed", "factory-finance", "factory", "finance"), blocked]
    cluster.state.forklift[("migrations", NS)] = [
        _as("migration-failed", "factory-finance-1", "factory", "finance", plan={"name": "factory-finance", "namespace": NS})]
    storage = _as("storagemap-class-missing", "factory-storage", "factory", "")
    locked = json.loads((repo / "sites/factory/mtvgen.lock").read_text())
    silver_id = next(i for i, d in locked["datastores"].items() if d["name"] == "ds-silver-01")
    storage["status"]["conditions"][0].update(type="SourceStorageNotValid", items=[silver_id])
    cluster.state.forklift[("storagemaps", NS)] = [storage]
    cluster.state.forklift[("providers", NS)] = [_as("provider-auth-failed", "vcenter-factory", "factory", "")]
    r = status(repo, cluster, "--format", "github")
    assert r.exit_code == 1, r.output
    lines = r.stdout.splitlines()
    failed = [v for v in FIXTURES["migration-failed"]["status"]["vms"] if v.get("error")]
    for v in failed:
        assert any(line.startswith(f"::error file=sites/factory/site.yaml,line={select},") and "MTV161" in line
                   and f"VM '{v['name']}' ({v['id']}) failed in factory-finance-1" in line for line in lines), r.stdout
    selector_of_web = next(i for i, line in enumerate(text, 1) if i > web and "- folder:" in line)
    assert any(f"line={selector_of_web}," in line and "MTV160" in line and "plan 'web-01' is blocked on the cluster "
               "(VMHasSnapshots: VMs have pre-existing snapshots.) for 'web-003'" in line for line in lines), r.stdout
    silver = next(i for i, line in enumerate(text, 1) if "source: ds-silver-01" in line)
    assert any(f"line={silver}," in line and "MTV162" in line and "StorageMap factory-storage is blocked" in line
               for line in lines), r.stdout
    assert any("MTV162" in line and "Provider vcenter-factory is blocked on the cluster: ConnectionAuthFailed" in line
               for line in lines), r.stdout
    sarif = json.loads(status(repo, cluster, "--format", "sarif").stdout)
    assert {res["ruleId"] for res in sarif["runs"][0]["results"]} == {"MTV160", "MTV161", "MTV162"}


def test_status_counts_what_the_ledger_says_moved(repo, cluster, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    (repo / "sites/ledger.yaml").write_text(
        'moved:\n  - {source: "vsphere:x", id: "vm-1001", name: "fin-001", namespace: "factory", target: "fin-001", '
        'plan: "factory/finance", migration: "factory-finance-1", date: "2026-12-06"}\n')
    cluster.state.forklift[("plans", NS)] = [_as("plan-ready", "factory-finance", "factory", "finance")]
    r = status(repo, cluster)
    assert "site factory  (context test, ledger: 1 moved, 95 planned, 0 left in no plan)" in r.stdout, r.stdout
    assert json.loads(status(repo, cluster, "-o", "json").stdout)["sites"][0]["moved"] == 1


def test_record_writes_what_finished_runs_did_and_the_estimate_prefers_it(repo, cluster):
    """Issue 21 item 1: `status --record` keeps per VM the MB copied and the copy and
    conversion time from the Migration's pipeline timestamps; the wave estimate uses them."""
    run_ = _as("migration-failed", "factory-finance-1", "factory", "finance",
               plan={"name": "factory-finance", "namespace": NS})
    done = [v for v in run_["status"]["vms"] if v.get("completed") and not v.get("error")]
    # pipeline steps as kubev2v/forklift d42511b writes them (plan/migrator/base/migrator.go :174:
    # name, description, phase, progress; started and completed, Timed); conversion follows the copy
    for v in done:       # 10,240 MB in 100 s, then a 300 s conversion
        v["pipeline"][1].update(started="2026-12-05T21:00:00Z", completed="2026-12-05T21:01:40Z")
        v["pipeline"].append({"name": "ImageConversion", "description": "Convert image to kubevirt.",
                              "phase": "Completed", "started": "2026-12-05T21:01:40Z",
                              "completed": "2026-12-05T21:06:40Z", "progress": {"completed": 1, "total": 1}})
    cluster.state.forklift[("plans", NS)] = [_as("plan-failed", "factory-finance", "factory", "finance")]
    cluster.state.forklift[("migrations", NS)] = [run_]
    r = status(repo, cluster, "--record", "-o", "json")
    assert r.exit_code == 1 and f"recorded sites/factory/throughput.yaml: {len(done)} VM(s)" in r.stderr
    lines = [line for line in (repo / "sites/factory/throughput.yaml").read_text().splitlines()
             if line.startswith("  - ")]
    assert len(lines) == len(done) and lines == sorted(lines)
    assert lines[0] == ('  - {id: "vm-1000", name: "app-00", plan: "finance", migration: "factory-finance-1", '
                        'copiedMiB: 9765, copySeconds: 100.0, conversionSeconds: 300.0, completed: "2026-11-28T08:00:00Z"}')
    from compiler import spec
    model = spec.load(repo / "sites/factory").throughput
    assert model.source == f"measured from {len(done)} VM(s)" and model.conversion == 300.0
    assert round(model.per_vm) == 9765 * 2**20 // 100


def test_a_blocked_host_is_annotated_at_its_hosts_entry(repo, cluster):
    """A Host is found by the name render gives it (spec.object_name), not by a look-alike."""
    text = (repo / "sites/dc1/site.yaml").read_text().splitlines()
    entry = next(i for i, line in enumerate(text, 1) if "- name: esx01.dc1.example.com" in line)
    cluster.state.forklift[("hosts", NS)] = [_as("host-bad-ip", "dc1-esx01-dc1-example-com-6a02e1", "dc1", "")]
    r = run(["status", "sites/dc1", "--kubeconfig", cluster.kubeconfig, "--context", "test", "--format", "github"],
            repo)
    hits = [line for line in r.stdout.splitlines() if "MTV162" in line]
    assert len(hits) == 1 and f"line={entry}," in hits[0], r.stdout
