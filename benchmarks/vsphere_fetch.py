#!/usr/bin/env python3
"""Benchmark: resolving a site against a large vCenter (vcsim), mtvgen against
the naive pyvmomi traversal most scripts do.

Starts vcsim with --vms VMs (default 10,000), moves 100 of them into a folder,
and resolves a site that selects about 500 VMs by folder and by name pattern.
Every request goes through a small local HTTP proxy that counts round trips and
bytes and can add latency (a vCenter across a WAN). For each latency it prints,
for mtvgen's source (ContainerView + paged PropertyCollector, heavy properties
only for the selected VMs) and for the naive traversal (vm.name and vm.parent
of every VM, then vm.network, vm.datastore and vm.config of each selected one,
measured on a sample and extrapolated): wall time, round trips, bytes and peak
memory, and the ratio. Issue-3 targets: round trips grow per 1,000 objects, not
per VM; >= 100x faster than naive through the 20 ms proxy; 10,000 VMs resolved
in under 5 s on loopback.

    scripts/build-go && .venv/bin/python benchmarks/vsphere_fetch.py [--vms 10000] [--delays 0,20]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import http.server
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
import vcsim  # noqa: E402  (tests/vcsim.py: the simulator's one login, and shaping it through the API)

# The children read the simulator's login as `mtvgen lock` reads a vCenter's: from the environment
LOGIN = {"VSPHERE_USER": vcsim.USER, "VSPHERE_PASSWORD": vcsim.PASSWORD}
CREDENTIALS = 'Credentials(os.environ["VSPHERE_USER"], os.environ["VSPHERE_PASSWORD"])'
from harness import PEAK_MB  # noqa: E402


class Proxy(http.server.ThreadingHTTPServer):
    """Reverse proxy to vcsim: counts requests and bytes, adds a fixed delay."""

    daemon_threads = True

    def __init__(self, upstream_port: int, delay: float):
        self.upstream_port, self.delay = upstream_port, delay
        self.requests = self.bytes = 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def reset(self):
        with self.lock:
            self.requests = self.bytes = 0


def _nodelay(sock) -> None:
    # Without TCP_NODELAY a response written as headers + body waits for the peer's delayed
    # ACK (about 40 ms on Linux): the proxy would add that to every round trip, which
    # inflates only the side that makes many round trips (issue 13 measured 44 ms at 0 ms).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        _nodelay(self.request)

    def log_message(self, *args):
        pass

    def _forward(self):
        srv: Proxy = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        time.sleep(srv.delay)
        if not hasattr(self, "upstream"):
            self.upstream = http.client.HTTPConnection("127.0.0.1", srv.upstream_port)
            self.upstream.connect()
            _nodelay(self.upstream.sock)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        self.upstream.request(self.command, self.path, body=body, headers=headers)
        resp = self.upstream.getresponse()
        data = resp.read()
        with srv.lock:
            srv.requests += 1
            srv.bytes += len(data) + len(body)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self._headers_buffer.append(b"\r\n" + data)    # headers and body in one write
        self.flush_headers()

    do_GET = do_POST = _forward


SPEC = """apiVersion: mtvgen/v1
targetNamespace: bench
source:
  type: vsphere
  url: {url}
  credentials: {{secret: vc}}
networks: [{{source: VM Network, target: pod}}]
storage: [{{source: LocalDS_0, storageClass: standard}}]
plans:
  - name: selected-folder
    select: [{{folder: /DC0/vm/Selected}}]
  - name: by-pattern
    select: [{{regex: "DC0_C[0-3]_RP0_VM[0-9]{{2}}"}}]
"""

MTVGEN_CHILD = PEAK_MB + """
import json, os, sys, time
from pathlib import Path
from compiler import pipeline, resolve, spec
from compiler.inventory.vsphere import VSphereSource, Credentials
site = spec.load(Path(sys.argv[1]))
t = time.perf_counter()
src = VSphereSource(site.source.url, """ + CREDENTIALS + """, timeout=120)
inv = src.snapshot(pipeline.selector_keys(site))   # as `mtvgen lock` does
res = resolve.resolve(site, inv)
selected = {i for ids in res.plans.values() for i in ids}
inv = src.details(inv, selected)
src.close()
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "selected": len(selected), "vms": len(inv.vms),
                  "rss": peak_mb()}))
"""

NAIVE_CHILD = PEAK_MB + """
import json, os, re, sys, time
from pyVmomi import SoapStubAdapter, vim
port, sample, detail = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
t = time.perf_counter()
stub = SoapStubAdapter(url=f"http://127.0.0.1:{port}/sdk", version="vim.version.v8_0_3_0", httpConnectionTimeout=120)
content = vim.ServiceInstance("ServiceInstance", stub).RetrieveContent()
content.sessionManager.Login(os.environ["VSPHERE_USER"], os.environ["VSPHERE_PASSWORD"])
view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
vms = list(view.view)[:sample]          # the usual script: one object at a time
t_list = time.perf_counter() - t
t = time.perf_counter()
picked = []
for vm in vms:
    name, parent = vm.name, vm.parent
    if parent.name == "Selected" or re.fullmatch("DC0_C[0-3]_RP0_VM[0-9]{2}", name):
        picked.append(vm)
t_select = time.perf_counter() - t
t = time.perf_counter()
for vm in picked[:detail]:
    vm.network, vm.datastore, vm.config
t_detail = time.perf_counter() - t
print(json.dumps({"list": t_list, "select": t_select, "detail": t_detail, "sampled": len(vms),
                  "detailed": min(detail, len(picked)), "total_vms": len(view.view),
                  "rss": peak_mb()}))
"""


PROBE = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
         'envelope/"><soapenv:Body><RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">'
         'ServiceInstance</_this></RetrieveServiceContent></soapenv:Body></soapenv:Envelope>').encode()


def round_trip_ms(port: int, n: int = 40) -> float:
    """Median time of one small SOAP round trip to `port` on a kept-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.connect()
    _nodelay(conn.sock)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        conn.request("POST", "/sdk", body=PROBE, headers={"Content-Type": "text/xml", "SOAPAction": "urn:vim25/8.0"})
        conn.getresponse().read()
        times.append((time.perf_counter() - t) * 1000)
    conn.close()
    return statistics.median(times)


def child(code: str, *args) -> dict:
    p = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, **LOGIN})
    if p.returncode != 0:
        sys.exit(p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


def bench_site(spec: str, port: int) -> Path:
    """A scratch site whose source is the counting proxy at `port` (spec: a format string
    with {url})."""
    site = Path(os.environ.get("TMPDIR", "/tmp")) / f"mtvgen-bench-{os.getpid()}" / "sites" / "bench"
    site.mkdir(parents=True, exist_ok=True)
    (site / "site.yaml").write_text(spec.format(url=f"http://127.0.0.1:{port}/sdk"))
    # the counting proxy speaks plain HTTP on loopback: the repository's policy allows it here
    (site.parent / "mtvgen-policy.yaml").write_text("allowHttp: true\n")
    return site


@contextlib.contextmanager
def simulator(vms: int):
    """vcsim with `vms` VMs in clusters of 1,000, plain HTTP: (its port, its process)."""
    clusters = max(1, vms // 1000)
    proc = subprocess.Popen([str(ROOT / ".cache" / "bin" / "vcsim"), "-no-tls", "-u", f"{vcsim.USER}:{vcsim.PASSWORD}", "-cluster",
                             str(clusters), "-vm", str(vms // clusters), "-host", "2"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        yield int(re.search(r":(\d+)/", info["url"]).group(1)), info, clusters, proc
    finally:
        proc.stdin.close()
        proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=10000)
    ap.add_argument("--delays", default="0,20", help="proxy latency per request, ms")
    ap.add_argument("--sample", type=int, default=300, help="VMs the naive traversal reads before extrapolating")
    args = ap.parse_args()
    with simulator(args.vms) as (upstream, info, clusters, proc):
        from pyVmomi import vim
        content = vcsim.connect(vcsim.Sim(info["url"], "", proc))
        dc = vcsim.find(content, vim.Datacenter)[0]
        target = dc.vmFolder.CreateFolder("Selected")
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        last = f"DC0_C{clusters - 1}_RP0_VM"  # the folder takes 100 VMs of the last cluster
        movers = [vm for vm in view.view if vm.name.startswith(last)][:100]
        vcsim.wait(target.MoveIntoFolder_Task(movers))
        print(f"vcsim: {len(view.view)} VMs, {clusters} clusters; site selects 100 by folder + ~360 by regex\n")
        print(f"{'latency':>8} {'who':<8} {'wall s':>9} {'round trips':>12} {'MB moved':>9} {'peak MB':>8}")
        direct = round_trip_ms(upstream)
        for delay in [float(d) for d in args.delays.split(",")]:
            proxy = Proxy(upstream, delay / 1000)
            through = round_trip_ms(proxy.port)
            proxy.reset()
            print(f"harness: a round trip takes {direct:.2f} ms direct, {through:.2f} ms through the proxy set to "
                  f"{delay:.0f} ms: it adds {through - direct:.2f} ms")
            site = bench_site(SPEC, proxy.port)
            m = child(MTVGEN_CHILD, site)
            m_rt, m_bytes = proxy.requests, proxy.bytes
            proxy.reset()
            n = child(NAIVE_CHILD, proxy.port, args.sample, 20)
            n_rt_sample, n_bytes_sample = proxy.requests, proxy.bytes
            # extrapolate: per-VM cost of select for all VMs, per-VM cost of detail for every selected VM
            per_select = n["select"] / n["sampled"]
            per_detail = n["detail"] / max(n["detailed"], 1)
            naive_wall = n["list"] + per_select * n["total_vms"] + per_detail * m["selected"]
            naive_rt = 4 + 2 * n["total_vms"] + 3 * m["selected"]
            naive_bytes = n_bytes_sample / (n["sampled"] + n["detailed"]) * (n["total_vms"] + m["selected"])
            print(f"{delay:>6.0f}ms {'mtvgen':<8} {m['wall']:>9.3f} {m_rt:>12} {m_bytes / 1e6:>9.1f} {m['rss']:>8.0f}")
            print(f"{delay:>6.0f}ms {'naive':<8} {naive_wall:>9.1f} {naive_rt:>12} {naive_bytes / 1e6:>9.1f} "
                  f"{n['rss']:>8.0f}  (measured on {n['sampled']} + {n['detailed']} VMs, {n_rt_sample} round trips)")
            print(f"{'':>8} ratio: {naive_wall / m['wall']:.0f}x faster, {naive_rt / m_rt:.0f}x fewer round trips; "
                  f"mtvgen: {m['selected']} selected of {m['vms']} VMs, "
                  f"{m_rt / (m['vms'] / 1000):.1f} round trips per 1,000 VMs\n")
            proxy.shutdown()


if __name__ == "__main__":
    main()
