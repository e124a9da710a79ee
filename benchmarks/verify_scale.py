#!/usr/bin/env python3
"""Benchmark: `mtvgen verify` of a 500-VM wave against a 10k-VM vCenter (vcsim), reading
the wave's VMs by id (issue 21 target: <= 3 s on loopback), against the read it replaced
(a light pass over every VM, then the wave's details). Both run in fresh processes
through the counting proxy of vsphere_fetch.py, so round trips and bytes are counted the
same way; the harness's own round-trip time is printed first.

    scripts/build-go && .venv/bin/python benchmarks/verify_scale.py [--vms 10000] [--wave 500]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from vsphere_fetch import (CREDENTIALS, LOGIN, PEAK_MB, ROOT, Proxy, bench_site, child, round_trip_ms,  # noqa: E402
                           simulator)

SPEC = """apiVersion: mtvgen/v1
targetNamespace: bench
source:
  type: vsphere
  url: {url}
  credentials: {{secret: vc}}
networks: [{{source: VM Network, target: pod}}, {{source: DC0_DVPG0, target: ignored}}]
storage: [{{source: LocalDS_0, storageClass: standard}}]
plans:
  - name: wave
    select: [{{regex: "DC0_C[0-5]_RP0_VM[0-9]{{2}}"}}]    # 540 of 10,000
"""

LOCK_CHILD = """
import sys
from pathlib import Path
from compiler.cli import main
main(["lock", sys.argv[1]], standalone_mode=False)
print("{}")
"""

BY_ID_CHILD = PEAK_MB + """
import json, os, sys, time
from compiler import pipeline, spec
from compiler.inventory.vsphere import VSphereSource, Credentials
site = spec.load(sys.argv[1])
t = time.perf_counter()
src = VSphereSource(site.source.url, """ + CREDENTIALS + """, timeout=120)
drift, vms, plans = pipeline.verify_site(site, src, None, ("wave",))
print(json.dumps({"wall": time.perf_counter() - t, "vms": vms, "drift": len(drift), "rss": peak_mb()}))
"""

WHOLE_CHILD = PEAK_MB + """
import json, os, sys, time
from compiler import lock as lockmod, spec
from compiler.inventory.vsphere import VSphereSource, Credentials
site = spec.load(sys.argv[1])
ids = set(lockmod.read(site).plans["wave"])
t = time.perf_counter()
src = VSphereSource(site.source.url, """ + CREDENTIALS + """, timeout=120)
inv = src.details(src.snapshot(frozenset()), ids)
src.close()
print(json.dumps({"wall": time.perf_counter() - t, "vms": len(ids), "read": len(inv.vms), "rss": peak_mb()}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=10000)
    args = ap.parse_args()
    with simulator(args.vms) as (upstream, _info, _clusters, _proc):
        proxy = Proxy(upstream, 0)
        print(f"harness: a round trip takes {round_trip_ms(upstream):.2f} ms direct, "
              f"{round_trip_ms(proxy.port):.2f} ms through the counting proxy")
        site = bench_site(SPEC, proxy.port)
        env = {**os.environ, **LOGIN}
        done = subprocess.run([sys.executable, "-c", LOCK_CHILD, str(site)], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"the lock failed:\n{done.stderr}")
        print(f"{'read':<28} {'VMs':>6} {'wall s':>7} {'round trips':>12} {'MB moved':>9} {'peak MB':>8}")
        rows = {}
        for name, code in (("verify, by id", BY_ID_CHILD), ("all VMs light, wave details", WHOLE_CHILD)):
            proxy.reset()
            r = child(code, site)
            rows[name] = (r["wall"], proxy.requests, proxy.bytes)
            print(f"{name:<28} {r['vms']:>6} {r['wall']:>7.2f} {proxy.requests:>12} {proxy.bytes / 1e6:>9.1f} "
                  f"{r['rss']:>8.0f}")
        (a_s, a_rt, a_b), (b_s, b_rt, b_b) = rows.values()
        print(f"by id: {b_s / a_s:.1f}x faster, {b_rt / a_rt:.1f}x fewer round trips, {b_b / a_b:.0f}x fewer bytes "
              f"than reading every VM; target (issue 21): a 500-VM wave in <= 3 s -> {'met' if a_s <= 3 else 'NOT met'}")
        proxy.shutdown()


if __name__ == "__main__":
    main()
