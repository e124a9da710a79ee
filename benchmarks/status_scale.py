#!/usr/bin/env python3
"""Benchmark: how `mtvgen status` shows a 10k-VM site, text beside JSON.

Builds the StatusReport a 10k-VM site gives (100 plans of 100 VMs; 51 runs going, in
each a few failed or canceled VMs with errors, the rest succeeded, running or queued)
and times, in this process and interleaved: `-o json`, the default text view (per
plan the VMs that need a person, the rest counted) and the text view with --vms
(one row a VM), each drawn by rich into a buffer as a 160-column terminal would be.
The cluster read, the same for every format, is left out. The harness's own cost
(drawing an empty report) is measured too. Target (issue 25): text within 2x of JSON.

    .venv/bin/python benchmarks/status_scale.py [--vms 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console  # noqa: E402

from compiler.status import view  # noqa: E402
from compiler.status.model import PlanStatus, SiteStatus, StatusReport, VMStatus  # noqa: E402


def report(n_vms: int, per_plan: int = 100) -> StatusReport:
    plans = []
    for p in range(n_vms // per_plan):
        running = p < 51
        vms = []
        for i in range(per_plan):
            outcome = ("Failed" if i % 50 == 7 else "Canceled" if i % 50 == 9 else
                       "Running" if i % 3 else "Queued") if running else "Succeeded"
            vms.append(VMStatus(id=f"vm-{p}-{i}", name=f"app-{p:03d}-{i:03d}", outcome=outcome,
                                phase="CopyDisks", step="DiskTransfer", copied_mb=4096 * (i % 3), total_mb=10240,
                                precopies=i % 4, cutover="", error="disk copy failed: timeout"
                                if outcome == "Failed" else ""))
        counts = {k: sum(1 for v in vms if v.outcome == k) for k in view.OUTCOME}
        plans.append(PlanStatus(plan=f"wave{p:03d}", object=f"bench-wave{p:03d}", found=True,
                                health="Healthy", message="Executing" if running else "Succeeded",
                                migration=f"bench-wave{p:03d}-1", run_health="Progressing" if running else "Healthy",
                                run_message="running", counts={**counts, "total": len(vms)}, vms=tuple(vms)))
    return StatusReport(sites=(SiteStatus(site="bench", context="test", plans=tuple(plans)),))


def draw(renderable) -> int:
    buffer = io.StringIO()
    Console(file=buffer, width=160, force_terminal=False, color_system=None).print(renderable)
    return buffer.getvalue().count("\n")


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--vms", type=int, default=10_000)
    args.add_argument("--repeat", type=int, default=5)
    opts = args.parse_args()
    big, empty = report(opts.vms), StatusReport(sites=())
    runs = {"json": [], "text": [], "text --vms": [], "harness (empty report)": []}
    lines = {}
    for _ in range(opts.repeat):          # interleaved: a noisy moment hits every format alike
        for name, work in (("json", lambda: view.as_json(big).count("\n")),
                           ("text", lambda: draw(view.tree(big))),
                           ("text --vms", lambda: draw(view.tree(big, all_vms=True))),
                           ("harness (empty report)", lambda: draw(view.tree(empty)))):
            start = time.perf_counter()
            lines[name] = work()
            runs[name].append(time.perf_counter() - start)
    median = {k: statistics.median(v) for k, v in runs.items()}
    print(f"status of {opts.vms:,} VMs in {opts.vms // 100} plans, median of {opts.repeat}:")
    for name, seconds in median.items():
        print(f"  {name:<24} {seconds:7.3f} s  {lines[name]:>7,} lines")
    print(f"  text / json:       {median['text'] / median['json']:.2f}x (target: at most 2x)")
    print(f"  text --vms / json: {median['text --vms'] / median['json']:.2f}x")


if __name__ == "__main__":
    main()
