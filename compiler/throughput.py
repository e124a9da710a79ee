"""How long a wave takes: the locked disk sizes against the site's rates, scheduled as
Forklift's own scheduler takes VMs.

In: a site's `throughput:` (rates per VM, in total, per source host and per datastore;
Forklift's MAX_VM_INFLIGHT; a conversion time a VM) and a wave's VMs from the lock. Out:
the estimated duration and when each VM ends. Pure.

The model, stated so a reviewer can judge it, with the upstream code it follows
(kubev2v/forklift d42511b, pkg/controller/plan/scheduler/):
- VMs start in plan order, plans in site order: each scheduler takes the first VM of the
  Plan that has not started and fits (vsphere/scheduler.go buildPending, ovirt Next).
- In-flight limits: on vSphere and Hyper-V, `maxInFlight` per ESXi / Hyper-V host; on
  every other type, across the whole source provider (ovirt, openstack, ocp, ova, ec2,
  nutanix calcInFlight). A vSphere VM costs one slot when virt-v2v copies it (a cold
  plan to the local cluster that migrates shared disks and converts the guest), else one
  slot per disk; a VM with more disks than the limit starts alone on its host
  (vsphere/scheduler.go cost, schedulable).
- A slot is held through conversion except on vSphere's per-disk path, whose
  ConvertGuest phase costs nothing.
- The copies share the rates max-min fairly: none above `perVM`, all within `total`,
  each host's within `perHost` and each datastore's within `perDatastore` (a VM counts
  on the datastore that holds most of its bytes).
- Warm plans copy before the window (precopies): in it, the cutover copies what changed
  since the last precopy, `warmDelta` of each disk (declared; 0 by default), and converts.
"""

from __future__ import annotations

import heapq
import re
from typing import Any

import msgspec

from .inventory.model import name_of
from .tables import PROVIDER_TYPES

_RATE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)/s$")
_UNIT = {"B": 1, "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KiB": 2**10, "MiB": 2**20,
         "GiB": 2**30, "TiB": 2**40}
DEFAULT_IN_FLIGHT = 20       # forklift-controller controller_max_vm_inflight (MAX_VM_INFLIGHT)


class Model(msgspec.Struct, frozen=True):
    per_vm: float            # bytes/s
    total: float             # bytes/s
    in_flight: int = DEFAULT_IN_FLIGHT
    conversion: float = 0.0  # seconds a VM
    source: str = "declared"  # or "measured from N VM(s)" (compiler/measured.py)
    per_host: float = 0.0    # bytes/s one source host serves its copies (0: no limit)
    per_datastore: float = 0.0
    hosts: dict[str, float] = {}        # host name -> its own limit (over per_host)
    datastores: dict[str, float] = {}   # datastore name -> its own limit
    where: Any = None                   # the spec's `throughput:` (a Location), for messages
    warm_delta: float = 0.0             # the share of a warm VM's disks its cutover copies (0..1)

    def shown(self, source_type: str) -> str:
        limits = "".join(f", {_bytes(rate)}/s a {what}" for rate, what in
                         ((self.per_host, "host"), (self.per_datastore, "datastore")) if rate)
        return (f"{_bytes(self.total)}/s in total, {_bytes(self.per_vm)}/s a VM ({self.source}){limits}, "
                f"{self.in_flight} in flight{' per host' if PROVIDER_TYPES[source_type].in_flight_per_host else ''}")


class Job(msgspec.Struct, frozen=True):
    """One VM as the scheduler sees it."""
    name: str
    size: int = 0             # bytes it copies inside the window
    slot: str = ""            # the in-flight count it falls under: its host, or "" (the provider)
    cost: int = 1             # slots it takes while copying
    held: bool = True         # keeps its slots while its guest converts
    host: str = ""            # rate limits it falls under ("" = none)
    datastore: str = ""


def rate(text: str) -> float:
    """`150MiB/s` in bytes a second; ValueError when it is not a rate."""
    m = _RATE.match(str(text).strip())
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * _UNIT[m.group(2)]


def _shares(copying: list[Job], model: Model) -> list[float]:
    """Max-min fair rates (progressive filling): raise every copy's rate together until a
    limit fills, fix the copies behind it, go on with the rest."""
    limits: list[list] = [[model.total, set(range(len(copying)))]]      # [bytes/s left, copies not fixed]
    of: list[list[int]] = [[0] for _ in copying]                         # a copy's limits
    for key, default, named in (("host", model.per_host, model.hosts),
                                ("datastore", model.per_datastore, model.datastores)):
        groups: dict[str, set[int]] = {}
        for i, name in enumerate(job.host if key == "host" else job.datastore for job in copying):
            if name:
                groups.setdefault(name, set()).add(i)
        for name, members in sorted(groups.items()):
            if not named.get(name, default):
                continue
            for i in members:
                of[i].append(len(limits))
            limits.append([named.get(name, default), members])
    rates = [model.per_vm] * len(copying)
    free = set(range(len(copying)))
    while free:
        level, tight = model.per_vm, None
        for k, (left, members) in enumerate(limits):
            if members and left / len(members) < level:
                level, tight = left / len(members), k
        fixed = set(free) if tight is None else set(limits[tight][1])
        for i in fixed:
            rates[i] = max(level, 0.0)
            for k in of[i]:
                limits[k][0] -= level
                limits[k][1].discard(i)
        free -= fixed
    return rates


def estimate(jobs: list[Job], model: Model) -> tuple[float, list[float]]:
    """(seconds until the last VM is done, each VM's end in the order given). An event
    simulation: at each copy's end or conversion's end the schedulers start what fits and
    the rates are shared again."""
    ends = [0.0] * len(jobs)
    queues: dict[str, list[int]] = {}                 # per in-flight count, in plan order
    for i, job in enumerate(jobs):
        queues.setdefault(job.slot, []).append(i)
    head = dict.fromkeys(queues, 0)                   # every VM before it has started
    used = dict.fromkeys(queues, 0)
    started = [False] * len(jobs)
    copies = _Copies(jobs, model)
    converting: list[tuple[float, int]] = []          # heap: (conversion ends, VM)
    now, left = 0.0, len(jobs)
    while left:
        for slot, queue in queues.items():            # what each scheduler starts now
            k = head[slot]
            while k < len(queue) and started[queue[k]]:
                k += 1
            head[slot] = k
            for i in queue[k:]:
                if used[slot] >= model.in_flight:
                    break
                if not started[i] and (jobs[i].cost + used[slot] <= model.in_flight
                                       or (used[slot] == 0 and jobs[i].cost > model.in_flight)):
                    used[slot] += jobs[i].cost
                    started[i] = True
                    copies.start(i)
        step = min(copies.next_end(), converting[0][0] - now if converting else float("inf"))
        if step == float("inf"):
            return float("inf"), [float("inf")] * len(jobs)
        now += step
        for i in copies.advance(step):
            heapq.heappush(converting, (now + model.conversion, i))
            if not jobs[i].held:
                used[jobs[i].slot] -= jobs[i].cost
        while converting and converting[0][0] <= now + 1e-9:
            end, i = heapq.heappop(converting)
            ends[i], left = end, left - 1
            if jobs[i].held:
                used[jobs[i].slot] -= jobs[i].cost
    return (max(ends) if ends else 0.0), ends


class _Copies:
    """The copies under way. Without host or datastore limits every copy runs at one
    rate, min(perVM, total / copies), so a copy is a point on one shared counter of
    bytes each copy has received (a heap: O(log n) an event); with them, the rates are
    shared anew at each event (_shares)."""

    def __init__(self, jobs: list[Job], model: Model):
        self.jobs, self.model = jobs, model
        self.shared = not (model.per_host or model.per_datastore or model.hosts or model.datastores)
        self.received = 0.0                            # shared: bytes each copy has had so far
        self.heap: list[tuple[float, int]] = []        # shared: (counter value at its end, VM)
        self.left: dict[int, float] = {}               # fair: VM -> bytes left
        self.rates: list[float] = []
        self.changed = True                            # fair: the copies changed since the rates were shared

    def start(self, i: int) -> None:
        if self.shared:
            heapq.heappush(self.heap, (self.received + self.jobs[i].size, i))
        else:
            self.left[i] = float(self.jobs[i].size)
            self.changed = True

    def _rate(self) -> float:
        return min(self.model.per_vm, self.model.total / len(self.heap)) if self.heap else 0.0

    def next_end(self) -> float:
        """Seconds until the next copy ends (inf: none can)."""
        if self.shared:
            if not self.heap:
                return float("inf")
            gap, rate = self.heap[0][0] - self.received, self._rate()
            return 0.0 if gap <= 0 else (gap / rate if rate > 0 else float("inf"))
        if self.changed:           # a conversion that ended changes no copy's rate
            self.rates, self.changed = _shares([self.jobs[i] for i in self.left], self.model), False
        return min((b / r if r > 0 else (0.0 if b <= 0 else float("inf"))
                    for b, r in zip(self.left.values(), self.rates)), default=float("inf"))

    def advance(self, seconds: float) -> list[int]:
        """Let `seconds` pass; the copies that ended."""
        done = []
        if self.shared:
            self.received += self._rate() * seconds
            while self.heap and self.heap[0][0] <= self.received * (1 + 1e-12) + 1e-6:
                done.append(heapq.heappop(self.heap)[1])
            return done
        for (i, b), r in zip(list(self.left.items()), self.rates):
            if b - r * seconds <= 1e-6 * max(1.0, self.jobs[i].size):
                done.append(i)
                del self.left[i]
                self.changed = True
            else:
                self.left[i] = b - r * seconds
        return done


def _bytes(n: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,.0f} B"


def hours(seconds: float) -> str:
    if seconds == float("inf"):
        return "forever (a rate of 0)"
    minutes = int(round(seconds / 60))
    return f"{minutes // 60}h{minutes % 60:02d}m"


def jobs(site, lock, plan) -> list[Job]:
    """A plan's (or batch's) VMs from the lock as the scheduler takes them, in plan order."""
    kind = PROVIDER_TYPES[site.source.type]
    # a vSphere VM that virt-v2v copies and converts in one pod takes one slot for all of it
    # (Plan.ShouldUseV2vForTransfer); one that CDI copies takes a slot a disk, until its copy
    # ends. Every other type's scheduler counts a running VM as one.
    by_disk = kind.in_flight_in_disks and not (
        plan.type == "cold" and not site.destination.url and plan.options.get("migrateSharedDisks", True) is not False
        and not plan.options.get("skipGuestConversion"))
    out = []
    for vm_id in lock.plans.get(plan.name, []):
        vm = lock.vms.get(vm_id)
        if vm is None:
            continue
        per_ds: dict[str, int] = {}
        for d in vm.disks:
            per_ds[d.datastore] = per_ds.get(d.datastore, 0) + d.capacity
        host = name_of(lock.hosts, vm.host)
        store = max(sorted(per_ds), key=per_ds.__getitem__) if per_ds else ""
        size = sum(per_ds.values())
        out.append(Job(vm.name, round(size * site.throughput.warm_delta) if plan.type == "warm" else size,
                       slot=host if kind.in_flight_per_host else "",
                       cost=max(1, len(vm.disks)) if by_disk else 1, held=not by_disk, host=host,
                       datastore=name_of(lock.datastores, store)))
    return out


def waves(site, lock) -> dict[int, tuple[float, list[tuple[str, float]]]]:
    """Each wave with plans that have not run: (its estimate, (VM name, end) for each VM)
    at the site's rates; {} without `throughput:`."""
    if site.throughput is None:
        return {}
    out = {}
    for number in sorted(site.waves):
        wave = [job for p in site.plans if p.wave == number and not p.done for job in jobs(site, lock, p)]
        if wave:
            took, ends = estimate(wave, site.throughput)
            out[number] = (took, [(job.name, end) for job, end in zip(wave, ends)])
    return out
