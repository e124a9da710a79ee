"""The README's factory weekend, run for real: each command on a scratch copy of
sites/factory, its output as printed. scripts/update-readme writes the result between
the `factory-walk` markers, and tests/test_readme.py fails when a command would now
print something else, so the walk cannot drift from the tool.

The source is the site's inventory snapshot (`--inventory`: a live vCenter answers
the same way); the cluster is tests/fakecluster.py serving Plans and Migrations in
the shapes the real controller writes (tests/status_fixtures.py): the run's VMs all
succeed, 8 GiB each copied in 4 minutes, then converted in 6.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from unittest import mock

import yaml

ROOT = Path(__file__).resolve().parent.parent
SITE = "sites/factory"

# What the team declares: the rates its test runs showed, and a third window
DECLARED = """\
throughput: {perVM: 50MiB/s, total: 120MiB/s, conversion: 10m}
"""
THIRD_WAVE = """\
  - {wave: 3, start: "2026-12-19T21:00:00+01:00", duration: 8h, description: web farm night two}
"""
FRIDAY = "2026-12-04T12:00:00+01:00"       # before the first window
SATURDAY = "2026-12-05T21:05:00+01:00"     # inside it


def factory_weekend() -> str:
    sys.path.insert(0, str(ROOT / "tests"))
    from click.testing import CliRunner
    from compiler.cli import main
    from fakecluster import FakeCluster

    out: list[str] = []

    def step(text: str) -> None:
        out.append(f"\n{text}\n")

    def mtvgen(*args: str, shown: str = "", keep=lambda lines: lines, expect: int = 0) -> None:
        res = CliRunner().invoke(main, list(args), catch_exceptions=False)
        lines = (res.stdout + res.stderr).splitlines()
        out.append("```console")
        out.append(f"$ mtvgen {shown or ' '.join(a for a in args if not a.startswith('--now=')) }")
        out.extend(keep(lines))
        out.append("```")
        if res.exit_code != expect:
            raise SystemExit(f"readme walk: `mtvgen {' '.join(args)}` exited {res.exit_code}:\n{res.output}")

    # rich wraps `status` at the terminal's width; the working directory and the width are
    # the walk's alone, and come back however it ends
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp), mock.patch.dict(os.environ, {"COLUMNS": "110"}):
        shutil.copytree(ROOT / "sites", "sites", ignore=shutil.ignore_patterns("throughput.yaml", "ledger.yaml"))
        spec = Path(SITE, "site.yaml")
        text = spec.read_text()
        text = text.replace("\nwaves:\n", f"\n{DECLARED}\nwaves:\n", 1)
        text = text.replace("description: web farm}\n", "description: web farm}\n" + THIRD_WAVE, 1)
        spec.write_text(text)
        step("**Monday: will the waves fit?** The team declares what its test runs showed, "
             "and a third window for the web farm:\n\n```yaml\n" + DECLARED + "waves:\n  ...\n" + THIRD_WAVE + "```")
        mtvgen("check", SITE, f"--now={FRIDAY}")
        step("`fit` proposes waves for batches; finance is one plan, too long for any window:")
        mtvgen("fit", SITE, f"--now={FRIDAY}", expect=1)
        text = spec.read_text().replace("    wave: 1\n", "    wave: 1\n    batch: {maxVMs: 41}\n", 1)
        spec.write_text(text)
        step("As it says: `batch: {maxVMs: 41}` on finance, a lock (offline here, from the snapshot), and "
             "`fit` again:")
        mtvgen("lock", SITE, "--inventory", f"{SITE}/inventory.yaml")
        mtvgen("fit", SITE, f"--now={FRIDAY}")
        step("The pull request's summary draws the estimates under the windows:")
        mtvgen("build", f"--now={FRIDAY}", shown="build                 # (the other sites' lines left out)",
               keep=lambda lines: [x for x in lines if "factory" in x])
        mtvgen("summary", SITE, shown=f"summary {SITE}     # (its gantt chart)", keep=_gantt)
        step("**Friday: the drift gate.** A VM's disk grew since the lock:")
        friday = _grown(Path(SITE, "inventory.yaml"), "fin-007", 100)
        mtvgen("verify", SITE, "--wave", "1", "--inventory", str(friday),
               shown=f"verify {SITE} --wave 1   # live: the vCenter; here a snapshot", expect=1)
        step("The team takes the new size and gives finance's first batch one VM less (`batch: {maxVMs: 40}`); "
             "the lock diff and `fit` are the review:")
        spec.write_text(spec.read_text().replace("batch: {maxVMs: 41,", "batch: {maxVMs: 40,", 1))
        mtvgen("lock", SITE, "--inventory", str(friday), shown=f"lock {SITE}")
        mtvgen("fit", SITE, f"--now={FRIDAY}")
        step("**Saturday 21:05, in the window:**")
        mtvgen("start", SITE, "finance-01")
        cluster = FakeCluster(Path(tmp))
        try:
            config = yaml.safe_load(cluster.kubeconfig.read_text())     # the cluster as the team names it
            config["contexts"] = [{**c, "name": "prod"} for c in config["contexts"] if c["name"] == "test"]
            config["current-context"] = "prod"
            cluster.kubeconfig.write_text(yaml.safe_dump(config))
            vm_ids = yaml.safe_load(Path(SITE, "mtvgen.lock").read_text())["plans"]["finance-01"]
            _serve_run(cluster, vm_ids, Path(SITE, "mtvgen.lock"), running=11)
            kube = ("--kubeconfig", str(cluster.kubeconfig), "--context", "prod")
            step("**Saturday 23:40: during the run.** Argo CD synced the start; `status` reads the cluster:")
            mtvgen("status", SITE, *kube, shown=f"status {SITE} --context prod")
            _serve_run(cluster, vm_ids, Path(SITE, "mtvgen.lock"))
            step("**Sunday morning: the run ended.** What it did becomes the measured rates, and `done` "
                 "records each VM the cluster says moved in the ledger:")
            mtvgen("status", SITE, *kube, "--record", shown=f"status {SITE} --context prod --record")
            mtvgen("done", SITE, "finance-01", *kube, shown=f"done {SITE} finance-01 --context prod")
            step("The next waves are estimated at the measured rates; the summary counts what moved:")
            mtvgen("fit", SITE, f"--now={SATURDAY}")
            mtvgen("summary", SITE, shown=f"summary {SITE}     # (its ledger line)",
                   keep=lambda lines: [x[x.index("Ledger"):] for x in lines if "Ledger:" in x])
        finally:
            cluster.close()
    return "\n".join(out).strip() + "\n"


def _gantt(lines: list[str]) -> list[str]:
    start = next(i for i, x in enumerate(lines) if x.strip() == "gantt")
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("```"))
    return [x for x in lines[start:end] if "section cutovers" not in x]


def _grown(snapshot: Path, name: str, gib: int) -> Path:
    """The snapshot as the vCenter would answer after `name`'s first disk grew to `gib`."""
    inv = yaml.safe_load(snapshot.read_text())
    vm = next(v for v in inv["vms"] if v["name"] == name)
    vm["disks"][0]["capacity"] = gib << 30
    path = snapshot.with_name("friday.yaml")
    path.write_text(yaml.safe_dump(inv, sort_keys=False))
    return path


def _serve_run(cluster, vm_ids: list[str], lock_path: Path, running: int = 0) -> None:
    """finance-01's Plan and Migration as the controller writes them (status_fixtures'
    shapes, the lock's VMs): the last `running` VMs still copying, the others succeeded."""
    import status_fixtures as fx
    names = {i: v["name"] for i, v in yaml.safe_load(lock_path.read_text())["vms"].items()}
    plan_status, run_status = fx.a_run([(i, names[i]) for i in vm_ids], running)
    labels = {"mtvgen.io/site": "factory", "mtvgen.io/plan": "finance-01"}
    plan, run = fx.plan([]), fx.migration()
    plan.update(status=plan_status)
    run.update(status=run_status)
    plan["metadata"].update(name="factory-finance-01", labels=labels)
    run["metadata"].update(name="factory-finance-01-1", labels=labels)
    run["spec"]["plan"] = {"name": "factory-finance-01", "namespace": fx.NS}
    cluster.state.forklift[("plans", fx.NS)] = [plan]
    cluster.state.forklift[("migrations", fx.NS)] = [run]
