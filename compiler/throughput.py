"""How long a wave takes: the locked disk sizes against the site's declared rates.

In: a site's `throughput:` (per-VM and total copy rates, how many VMs Forklift runs at a
time, a conversion time per VM) and the byte sizes of a wave's VMs. Out: the estimated
duration and when each VM ends. Pure.

The model, stated so a reviewer can judge it: the largest VMs start first; at most
`maxInFlight` copy at once (the ForkliftController's controller_max_vm_inflight, 20 by
default); the copies share the total rate and none goes faster than the per-VM rate; a
VM's guest conversion follows its copy and does not hold a copy slot. Warm plans copy
before the window: in it only their conversion counts.
"""

from __future__ import annotations

import heapq
import re

import msgspec

_RATE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)/s$")
_UNIT = {"B": 1, "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KiB": 2**10, "MiB": 2**20,
         "GiB": 2**30, "TiB": 2**40}
DEFAULT_IN_FLIGHT = 20       # forklift-controller controller_max_vm_inflight


class Model(msgspec.Struct, frozen=True):
    per_vm: float            # bytes/s
    total: float             # bytes/s
    in_flight: int = DEFAULT_IN_FLIGHT
    conversion: float = 0.0  # seconds a VM
    source: str = "declared"  # or "measured from N VM(s)" (compiler/measured.py)

    def shown(self) -> str:
        return (f"{_bytes(self.total)}/s in total, {_bytes(self.per_vm)}/s a VM ({self.source}), "
                f"{self.in_flight} at a time")


def rate(text: str) -> float:
    """`150MiB/s` in bytes a second; ValueError when it is not a rate."""
    m = _RATE.match(str(text).strip())
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * _UNIT[m.group(2)]


def estimate(sizes: list[int], model: Model) -> tuple[float, list[float]]:
    """(seconds until the last VM is done, each VM's end in the order given)."""
    order = sorted(range(len(sizes)), key=lambda i: -sizes[i])
    ends = [0.0] * len(sizes)
    active: list[tuple[float, int]] = []     # (bytes left + `copied` at start, VM): all share one rate
    copied, now, queue = 0.0, 0.0, list(order)
    while queue or active:
        while queue and len(active) < model.in_flight:
            i = queue.pop(0)
            heapq.heappush(active, (sizes[i] + copied, i))
        speed = min(model.per_vm, model.total / len(active))
        left, i = active[0]
        dt = (left - copied) / speed if speed > 0 else float("inf")
        now += dt
        copied = left
        heapq.heappop(active)
        ends[i] = now + model.conversion
    return (max(ends) if ends else 0.0), ends


def _bytes(n: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,.0f} B"


def hours(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    return f"{minutes // 60}h{minutes % 60:02d}m"


def waves(site, lock) -> dict[int, tuple[float, list[tuple[str, float]]]]:
    """Each wave with plans that have not run: (its estimate, (VM name, end) for each VM)
    at the site's declared rates; {} without `throughput:`."""
    if site.throughput is None:
        return {}
    out = {}
    for number in sorted(site.waves):
        vms = [(lock.vms[i].name, 0 if p.type == "warm" else sum(d.capacity for d in lock.vms[i].disks))
               for p in site.plans if p.wave == number and not p.done for i in lock.plans.get(p.name, [])
               if i in lock.vms]
        if vms:
            took, ends = estimate([size for _, size in vms], site.throughput)
            out[number] = (took, [(name, end) for (name, _), end in zip(vms, ends)])
    return out
