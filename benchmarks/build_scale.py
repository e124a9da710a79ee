#!/usr/bin/env python3
"""Benchmark: `mtvgen build` on generated vSphere sites of growing size.

Generates a site with N VMs in N/100 plans (one folder per plan), each VM with two
NICs and two disks on two mapped networks and datastores (issue 13's workload), locks it from
an inventory snapshot (not timed), then times `mtvgen build` in a fresh process
and reads its peak memory; the median of --repeat runs, and the best run on a second
line (steadier on a noisy machine). Beside it, measured in the
same run on the same tree: the build's I/O floor (load spec + lock, write the same
bytes) and `kubectl kustomize` of the output. Prints the ratios and the growth
between sizes. Targets (issue 13): at most 4x the floor, no slower than kustomize,
under 150 MB at 10k VMs; 50k within 5.5x of 10k.

    .venv/bin/python benchmarks/build_scale.py [--sizes 1000,10000,50000] [--repeat 3] [--dir /dev/shm]
"""

from __future__ import annotations

import argparse
import compileall
import gc
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from harness import PEAK_MB

SPEC_HEAD = """apiVersion: mtvgen/v1
targetNamespace: bench
source:
  type: vsphere
  url: https://vc.example.com/sdk
  credentials: {secret: vc-creds}
networks:
  - {source: VM Network, target: pod}
  - {source: Backup Network, target: bench/backup}
storage:
  - {source: ds1, storageClass: standard}
  - {source: ds2, storageClass: fast}
plans:
"""


def generate(root: Path, n_vms: int, per_plan: int = 100) -> Path:
    site = root / "sites" / "bench"
    site.mkdir(parents=True)
    plans = n_vms // per_plan
    spec = SPEC_HEAD + "".join(f"  - name: wave{p:03d}\n    select:\n      - folder: /DC/vm/f{p:03d}\n"
                               for p in range(plans))
    (site / "site.yaml").write_text(spec)
    def mac(i: int, nic: int) -> str:
        return f"00:50:5{nic}:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"

    # the workload: 2 NICs and 2 disks per VM
    vms = [{"id": f"vm-{i}", "name": f"App Server {i:05d}", "path": f"/DC/vm/f{i // per_plan:03d}/App Server {i:05d}",
            "host": "host-1", "powerState": "poweredOff", "guestId": "rhel9_64Guest",
            "nics": [{"network": {"id": "network-1"}, "mac": mac(i, 6)}, {"network": {"id": "network-2"}, "mac": mac(i, 7)}],
            "disks": [{"key": 2000, "datastore": {"id": "datastore-1"}, "capacity": 10 << 30},
                      {"key": 2001, "datastore": {"id": "datastore-2"}, "capacity": 50 << 30}]}
           for i in range(plans * per_plan)]
    inv = {"provider": {"type": "vsphere"}, "hosts": [{"id": "host-1", "name": "esx1", "path": "/DC/host/esx1"}],
           "networks": [{"id": "network-1", "name": "VM Network", "path": "/DC/network/VM Network"},
                        {"id": "network-2", "name": "Backup Network", "path": "/DC/network/Backup Network"}],
           "datastores": [{"id": "datastore-1", "name": "ds1", "path": "/DC/datastore/ds1"},
                          {"id": "datastore-2", "name": "ds2", "path": "/DC/datastore/ds2"}], "vms": vms}
    (site / "inventory.json").write_text(json.dumps(inv))
    return site


CHILD = PEAK_MB + """
import sys, time
from compiler.cli import main
t = time.perf_counter()
try:
    main(["build", "--out", sys.argv[1]], standalone_mode=False)
finally:
    wall = time.perf_counter() - t
    print(f"{wall:.3f} {peak_mb():.1f}", file=sys.stderr)
"""


def measure(root: Path) -> tuple[float, float, float]:
    """(in-process build seconds, whole-process seconds, peak RSS MB) of one build into a
    fresh out/, as the floor writes a fresh tree (the previous tree is removed untimed;
    a rebuild over it would also pay for deleting it)."""
    shutil.rmtree(root / "out", ignore_errors=True)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", CHILD, str(root / "out")], cwd=root, capture_output=True, text=True)
    total = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(p.stderr)
    wall, rss = p.stderr.strip().splitlines()[-1].split()
    return float(wall), total, float(rss)


def floor(root: Path) -> float:
    """The I/O floor of a build, measured the same way: load the spec and the lock,
    write the same bytes to a fresh tree (the bytes are read beforehand, not timed)."""
    out = root / "out"
    files = [(p.relative_to(out), p.read_bytes()) for p in sorted(out.rglob("*")) if p.is_file()]
    site = root / "sites" / "bench"
    # without the cyclic collector, as the build runs: with it, json.loads of a 50k-VM lock
    # in this long-lived process paid for full collections, and the floor grew 7.5x for 5x
    gc.disable()
    t = time.perf_counter()
    yaml.load((site / "site.yaml").read_text(), Loader=yaml.CSafeLoader)
    json.loads((site / "mtvgen.lock").read_text())
    dest = root / "floor"
    for rel, data in files:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(data)
    elapsed = time.perf_counter() - t
    gc.enable()
    shutil.rmtree(dest)
    return elapsed


def kustomize(root: Path) -> float | None:
    """`kubectl kustomize` of the built tree, whole process, or None without kubectl."""
    kubectl = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which("kubectl")
    if not kubectl:
        return None
    t = time.perf_counter()
    subprocess.run([kubectl, "kustomize", str(root / "out" / "bench")], check=True, capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,50000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", help="where to build (default: the system's temp directory); a tmpfs such as "
                                  "/dev/shm takes the disk's noise out of every figure, the floor's too")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    # What `pip install` does, and what an editable install does on its first run unless
    # PYTHONDONTWRITEBYTECODE is set (as on this machine): without it, every timed process
    # would compile mtvgen's sources first (about 50 ms), a cost no installed copy pays.
    package = Path(__file__).resolve().parents[1] / "compiler"
    compileall.compile_dir(package, quiet=1)
    print(f"(bytecode of {package} compiled first, as an installed copy has it)")
    print(f"building in {args.dir or tempfile.gettempdir()}")
    print(f"{'VMs':>7} {'plans':>6} {'build s':>8} {'process s':>10} {'peak MB':>8} "
          f"{'floor s':>8} {'/floor':>7} {'kustomize s':>12} {'/kustomize':>11}")
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            root = Path(tmp)
            site = generate(root, n)
            lock = subprocess.run([sys.executable, "-m", "compiler.cli", "lock", str(site), "--inventory",
                                   str(site / "inventory.json")], cwd=root, capture_output=True, text=True)
            if lock.returncode != 0:
                sys.exit(lock.stderr)
            # interleaved, so a slow spell of the machine hits the build and its references alike
            # os.sync() between them (untimed): the dirty pages one run leaves behind are
            # flushed before the next starts, instead of slowing whichever comes next
            runs, floors, kz = [], [], []
            for _ in range(args.repeat):
                os.sync()
                runs.append(measure(root))
                os.sync()
                floors.append(floor(root))
                os.sync()
                kz.append(kustomize(root))
            wall = statistics.median(r[0] for r in runs)
            total = statistics.median(r[1] for r in runs)
            rss = max(r[2] for r in runs)
            fl = statistics.median(floors)
            kz_s = statistics.median(kz) if None not in kz else None
            rows.append((n, wall, fl))
            kz_text = f"{kz_s:>12.3f} {total / kz_s:>10.2f}x" if kz_s else f"{'(no kubectl)':>12} {'':>11}"
            print(f"{n:>7} {n // 100:>6} {wall:>8.3f} {total:>10.3f} {rss:>8.1f} {fl:>8.3f} {wall / fl:>6.1f}x "
                  + kz_text)
            # on a noisy machine the best run is the steadier estimate of what each costs
            best = (min(r[0] for r in runs), min(r[1] for r in runs), min(floors))
            best_kz = f", kustomize {min(kz):.3f} s: {best[1] / min(kz):.2f}x" if kz_s else ""
            print(f"{'':>7} best of {args.repeat}: build {best[0]:.3f} s (process {best[1]:.3f} s), "
                  f"floor {best[2]:.3f} s: {best[0] / best[2]:.1f}x{best_kz}")
    for (n0, t0, f0), (n1, t1, f1) in itertools.pairwise(rows):
        print(f"growth {n0} -> {n1}: {n1 / n0:.1f}x VMs -> {t1 / t0:.1f}x build time "
              f"(linear = {n1 / n0:.1f}x; the floor grew {f1 / f0:.1f}x in the same run)")
    print("targets (issue 13): build <= 4x floor and <= kustomize (whole process), < 150 MB at 10k; "
          "50k within 5.5x of 10k")


if __name__ == "__main__":
    main()
