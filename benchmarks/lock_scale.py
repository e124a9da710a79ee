#!/usr/bin/env python3
"""Benchmark: `mtvgen lock --inventory` from a snapshot, JSON against YAML, and growth.

Uses build_scale's generated site (N VMs, N/100 plans, one folder per plan) and
writes the same inventory twice, as JSON and as YAML (the bundled sites' snapshots
are YAML). Each lock runs in a fresh process; the median of --repeat runs is shown.

Prints, measured in the same run:
  - YAML/JSON time at each size (issue 13 target: at most 3x), and
  - growth between the smallest and largest size against linear (selection should
    cost VMs + matches, not plans x VMs).

    .venv/bin/python benchmarks/lock_scale.py [--sizes 10000,50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from build_scale import generate  # noqa: E402
from harness import PEAK_MB  # noqa: E402

CHILD = PEAK_MB + """
import sys, time
from compiler.cli import main
t = time.perf_counter()
try:
    main(["lock", sys.argv[1], "--inventory", sys.argv[2]], standalone_mode=False)
finally:
    print(f"{time.perf_counter() - t:.3f} {peak_mb():.1f}",
          file=sys.stderr)
"""


def lock_once(root: Path, site: Path, inventory: Path) -> tuple[float, float]:
    (site / "mtvgen.lock").unlink(missing_ok=True)
    p = subprocess.run([sys.executable, "-c", CHILD, str(site), str(inventory)], cwd=root,
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(p.stderr)
    wall, rss = p.stderr.strip().splitlines()[-1].split()
    return float(wall), float(rss)


def median_lock(root: Path, site: Path, inventory: Path, repeat: int) -> tuple[float, float]:
    runs = [lock_once(root, site, inventory) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,50000")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'VMs':>7} {'plans':>6} {'JSON s':>7} {'JSON MB':>8} {'YAML s':>7} {'YAML MB':>8} {'YAML/JSON':>10}")
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            t = time.perf_counter()
            site = generate(root, n)
            as_json = site / "inventory.json"
            as_yaml = site / "inventory.yaml"
            as_yaml.write_text(yaml.dump(json.loads(as_json.read_text()), Dumper=yaml.CSafeDumper))
            setup = time.perf_counter() - t
            json_s, json_mb = median_lock(root, site, as_json, args.repeat)
            yaml_s, yaml_mb = median_lock(root, site, as_yaml, args.repeat)
            rows.append((n, json_s))
            print(f"{n:>7} {n // 100:>6} {json_s:>7.2f} {json_mb:>8.0f} {yaml_s:>7.2f} {yaml_mb:>8.0f} "
                  f"{yaml_s / json_s:>9.1f}x   (setup {setup:.1f} s, not timed)")
    if len(rows) > 1:
        (n0, t0), (n1, t1) = rows[0], rows[-1]
        print(f"growth (JSON): {n1 / n0:.1f}x VMs and plans -> {t1 / t0:.1f}x time (linear = {n1 / n0:.1f}x)")
    print("targets (issue 13): YAML within 3x of JSON; growth close to linear")


if __name__ == "__main__":
    main()
