#!/usr/bin/env python3
"""Benchmark: the wave estimate (compiler/throughput.py), which the build runs once a
wave and `mtvgen fit` once a batch for each wave it tries.

Synthetic waves of N VMs (1-200 GiB, 1-3 disks, over 50 ESXi hosts and 30 datastores,
vSphere's per-disk path) are estimated in this process, median of --repeat runs: with
the per-VM and total rates alone, and with per-host and per-datastore limits too (the
max-min sharing then runs at every event). The harness (the timer around an estimate of
an empty wave) is measured too, so the figures can be read against it.

    .venv/bin/python benchmarks/estimate_scale.py [--sizes 500,2000,10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from compiler import throughput  # noqa: E402

GIB, MIB = 2**30, 2**20


def wave(n: int) -> list[throughput.Job]:
    rng = random.Random(n)           # the same wave every run
    return [throughput.Job(f"vm-{i}", rng.randint(1, 200) * GIB, slot=f"esx-{i % 50}", cost=rng.randint(1, 3),
                           held=False, host=f"esx-{i % 50}", datastore=f"ds-{i % 30}") for i in range(n)]


def timed(jobs, model, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        throughput.estimate(jobs, model)
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="500,2000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    plain = throughput.Model(200 * MIB, 4 * GIB, 20, conversion=600)
    limited = throughput.Model(200 * MIB, 4 * GIB, 20, conversion=600, per_host=800 * MIB, per_datastore=600 * MIB)
    harness = timed([], plain, args.repeat)
    print(f"harness (an empty wave): {harness * 1e6:.1f} us")
    print(f"{'VMs':>6} {'rates s':>8} {'+limits s':>10} {'ratio':>6} {'estimate h':>11}")
    for n in (int(x) for x in args.sizes.split(",")):
        jobs = wave(n)
        a, b = timed(jobs, plain, args.repeat), timed(jobs, limited, args.repeat)
        hours = throughput.estimate(jobs, limited)[0] / 3600
        print(f"{n:>6} {a:>8.3f} {b:>10.3f} {b / a:>6.1f} {hours:>11.1f}")


if __name__ == "__main__":
    main()
