#!/usr/bin/env python3
"""Benchmark: `mtvgen build` on generated vSphere sites of growing size.

Generates a site with N VMs in N/100 plans (one folder per plan), locks it from
an inventory snapshot (not timed), then times `mtvgen build` in a fresh process
and reads its peak memory. Prints one row per size and the time ratio between
sizes, to show growth is linear. Targets (issue 2): 10,000 VMs in 100 plans
under 2 s and 300 MB on a 2-core machine.

    .venv/bin/python benchmarks/build_scale.py [--sizes 1000,5000,10000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC_HEAD = """apiVersion: mtvgen/v1
targetNamespace: bench
source:
  type: vsphere
  url: https://vc.example.com/sdk
  credentials: {secret: vc-creds}
networks:
  - {source: VM Network, target: pod}
storage:
  - {source: ds1, storageClass: standard}
plans:
"""


def generate(root: Path, n_vms: int, per_plan: int = 100) -> Path:
    site = root / "sites" / "bench"
    site.mkdir(parents=True)
    plans = n_vms // per_plan
    spec = SPEC_HEAD + "".join(f"  - name: wave{p:03d}\n    select:\n      - folder: /DC/vm/f{p:03d}\n"
                               for p in range(plans))
    (site / "site.yaml").write_text(spec)
    vms = [{"id": f"vm-{i}", "name": f"App Server {i:05d}", "path": f"/DC/vm/f{i // per_plan:03d}/App Server {i:05d}",
            "host": "host-1", "powerState": "poweredOff", "guestId": "rhel9_64Guest",
            "nics": [{"network": {"id": "network-1"}, "mac": f"00:50:56:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"}],
            "disks": [{"key": 2000, "datastore": {"id": "datastore-1"}, "capacity": 10 << 30}]}
           for i in range(plans * per_plan)]
    inv = {"provider": {"type": "vsphere"}, "hosts": [{"id": "host-1", "name": "esx1", "path": "/DC/host/esx1"}],
           "networks": [{"id": "network-1", "name": "VM Network", "path": "/DC/network/VM Network"}],
           "datastores": [{"id": "datastore-1", "name": "ds1", "path": "/DC/datastore/ds1"}], "vms": vms}
    (site / "inventory.json").write_text(json.dumps(inv))
    return site


CHILD = """
import resource, sys, time
from compiler.cli import main
t = time.perf_counter()
try:
    main(["build", "--out", sys.argv[1]], standalone_mode=False)
finally:
    wall = time.perf_counter() - t
    print(f"{wall:.3f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}", file=sys.stderr)
"""


def measure(root: Path) -> tuple[float, float, float]:
    """(in-process build seconds, whole-process seconds, peak RSS MB) of one build."""
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", CHILD, str(root / "out")], cwd=root, capture_output=True, text=True)
    total = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(p.stderr)
    wall, rss = p.stderr.strip().splitlines()[-1].split()
    return float(wall), total, float(rss)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,2500,5000,10000")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'VMs':>7} {'plans':>6} {'build s':>8} {'process s':>10} {'peak MB':>8} {'s/1k VMs':>9}")
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            site = generate(root, n)
            lock = subprocess.run([sys.executable, "-m", "compiler.cli", "lock", str(site), "--inventory",
                                   str(site / "inventory.json")], cwd=root, capture_output=True, text=True)
            if lock.returncode != 0:
                sys.exit(lock.stderr)
            wall, total, rss = measure(root)
            rows.append((n, wall))
            print(f"{n:>7} {n // 100:>6} {wall:>8.3f} {total:>10.3f} {rss:>8.1f} {wall / n * 1000:>9.3f}")
    if len(rows) > 1:
        (n0, t0), (n1, t1) = rows[0], rows[-1]
        print(f"growth: {n1 / n0:.1f}x VMs -> {t1 / t0:.1f}x time (linear = {n1 / n0:.1f}x)")
    print("targets: 10,000 VMs in under 2 s and 300 MB")


if __name__ == "__main__":
    main()
