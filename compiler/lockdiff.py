"""What changed between two locks, one sentence per fact, in a reviewer's words.

Data in: the previous Lock (or None) and the new one. Data out: lines such as
    VM vm-149 'app-01' is now 'app-01-old'
    VM vm-149 'app-01' moved from /DC/vm/Old to /DC/vm/New
    VM vm-149 'app-01': power poweredOn -> poweredOff
`mtvgen lock` prints them, and `lock --check` prints them as the reason the lock
is stale, so a reviewer never meets a change the tool cannot name.
"""

from __future__ import annotations

from .inventory.model import VM

GIB = 1 << 30


def changes(old, new) -> list[str]:
    if old is None:
        return [f"new lock: {len(new.vms)} VM(s) in {len(new.plans)} plan(s)"]
    out = []
    for vm_id in sorted(set(old.vms) | set(new.vms)):
        a, b = old.vms.get(vm_id), new.vms.get(vm_id)
        if a is None:
            out.append(f"VM {vm_id} '{b.name}' added at {b.path}")
        elif b is None:
            out.append(f"VM {vm_id} '{a.name}' removed")
        else:
            out += vm_changes(a, b)
    moves = _moves(old, new)
    moving = {vm for ids in moves.values() for vm in ids}
    for plan in sorted(set(old.plans) | set(new.plans)):
        out += _members(f"plan {plan}", old.plans.get(plan, []), new.plans.get(plan, []), old, new, moving)
    for (was, now), ids in sorted(moves.items()):
        out.append(f"plan {was} -> {now}: {len(ids)} VM(s), " + _some(ids, new))
    for m in sorted(set(old.maps) | set(new.maps)):
        a, b = old.maps.get(m, []), new.maps.get(m, [])
        for i in range(max(len(a), len(b))):
            was, now = (a[i] if i < len(a) else []), (b[i] if i < len(b) else [])
            if was != now:
                out.append(f"mapping {m} entry {i + 1}: {_ids(was)} -> {_ids(now)}")
    for host in sorted(set(old.host_ids) | set(new.host_ids)):
        was, now = old.host_ids.get(host, "(none)"), new.host_ids.get(host, "(none)")
        if was != now:
            out.append(f"ESXi host {host}: {was} -> {now}")
    for name in sorted(set(old.started) | set(new.started)):
        was, now = old.started.get(name), new.started.get(name)
        if was is None:
            out.append(f"plan {name}: pinned as it runs (attempt {now.attempt}): a re-lock no longer changes it")
        elif now is None:
            out.append(f"plan {name}: no longer pinned (its run ended in Git)")
        elif was.attempt != now.attempt:
            out.append(f"plan {name}: pinned again for attempt {now.attempt}")
    if old.provider.identity != new.provider.identity:
        out.append(f"source provider identity: {_pairs(old.provider.identity)} -> {_pairs(new.provider.identity)}")
    return out


def pinned_drift(pinned: dict[str, list[str]], new, inv) -> list[str]:
    """What changed on the source for the VMs of running plans, which the lock keeps as
    they started (lifecycle.pinned): said, never applied. A retry after `done`, or a new
    plan, takes the source as it is then."""
    out = []
    for name, ids in sorted(pinned.items()):
        for vm_id, locked, now, lines in drift(ids, new, inv):
            if now is None:
                out.append(f"running plan {name}: VM {vm_id} '{locked.name}' is gone from the source; "
                           "kept as it started")
            out += [f"running plan {name}: {line} (not applied: the run keeps it as it started)" for line in lines]
    return out


def drift(ids, lock, inv):
    """Each VM of `ids` the lock holds, against the source now: (id, as locked, as the
    source has it or None when gone, the changes in words). Shared by a re-lock of running
    plans (pinned_drift) and `mtvgen verify`, so both name a change alike."""
    for vm_id in ids:
        locked, now = lock.vms.get(vm_id), inv.vms.get(vm_id)
        if locked is not None:
            yield vm_id, locked, now, vm_changes(locked, now) if now is not None else []


def vm_changes(a: VM, b: VM) -> list[str]:
    """One line a change of a VM's facts between two readings (lock, verify)."""
    who = f"VM {b.id} '{a.name}'"
    out = []
    if a.name != b.name:
        out.append(f"{who} is now '{b.name}'")
    if a.folder != b.folder:
        out.append(f"{who} moved from {a.folder or '/'} to {b.folder or '/'}")
    for label, was, now in (("power", a.power_state, b.power_state), ("host", a.host, b.host),
                            ("firmware", a.firmware, b.firmware), ("guest", a.guest_id, b.guest_id),
                            ("cpuCount", a.cpu_count, b.cpu_count), ("memoryMiB", a.memory_mib, b.memory_mib),
                            ("tags", _tags(a), _tags(b))):
        if was != now:
            out.append(f"{who}: {label} {was or '(none)'} -> {now or '(none)'}")
    if a.has_snapshot != b.has_snapshot:
        out.append(f"{who}: {'has a new snapshot' if b.has_snapshot else 'no longer has snapshots'}")
    if a.change_tracking != b.change_tracking:
        out.append(f"{who}: change block tracking turned {'on' if b.change_tracking else 'off'}")
    if a.is_template != b.is_template:
        out.append(f"{who}: {'became a template' if b.is_template else 'is no longer a template'}")
    out += _nics(who, a, b) + _disks(who, a, b)
    return out


def _tags(vm: VM) -> str:
    return ", ".join(f"{c}:{t}" if c else t for c, t in vm.tags)


def left(old, new, inv) -> list[str]:
    """Why each VM that left a plan left it, when it is still on the source: what changed
    about it (a `where:` on memory, a tag removed...). A VM that changed nothing left
    because the spec's selectors changed."""
    out = []
    if old is None:
        return out
    now = {i for ids in new.plans.values() for i in ids}      # in a plan still (another one, a new batch)
    for plan in sorted(old.plans):
        for vm_id in old.plans[plan]:
            if vm_id in now or vm_id not in inv.vms or vm_id not in old.vms:
                continue
            who = f"VM {vm_id} '{old.vms[vm_id].name}'"
            why = [line.removeprefix(who + ": ").removeprefix(who + " ")
                   for line in vm_changes(old.vms[vm_id], inv.vms[vm_id])]
            out.append(f"plan {plan} loses VM {vm_id} '{old.vms[vm_id].name}': "
                       + ("; ".join(why) if why else "the spec's selectors no longer choose it"))
    return out


def _nics(who: str, a: VM, b: VM) -> list[str]:
    """NICs are matched by MAC address (their only stable identity across sources)."""
    was, now = {n.mac or f"#{i}": n for i, n in enumerate(a.nics)}, {n.mac or f"#{i}": n for i, n in enumerate(b.nics)}
    out = [f"{who}: new NIC {mac} on {now[mac].network or '(no network)'}" for mac in now if mac not in was]
    out += [f"{who}: NIC {mac} removed" for mac in was if mac not in now]
    out += [f"{who}: NIC {mac} network {was[mac].network or '(none)'} -> {now[mac].network or '(none)'}"
            for mac in now if mac in was and was[mac].network != now[mac].network]
    return out


def _disks(who: str, a: VM, b: VM) -> list[str]:
    was, now = {d.key: d for d in a.disks}, {d.key: d for d in b.disks}
    out = [f"{who}: new disk {k} ({_size(now[k].capacity)} on {now[k].datastore or '(no storage)'})"
           for k in now if k not in was]
    out += [f"{who}: disk {k} removed" for k in was if k not in now]
    for k in (k for k in now if k in was and was[k] != now[k]):
        d0, d1 = was[k], now[k]
        if d0.capacity != d1.capacity:
            out.append(f"{who}: disk {k} resized {_size(d0.capacity)} -> {_size(d1.capacity)}")
        if d0.datastore != d1.datastore:
            out.append(f"{who}: disk {k} moved {d0.datastore or '(none)'} -> {d1.datastore or '(none)'}")
        if (d0.capacity, d0.datastore) == (d1.capacity, d1.datastore):
            fields = [f for f in ("shared", "rdm", "mode", "bus", "change_tracking", "lun", "file")
                      if getattr(d0, f) != getattr(d1, f)]
            out.append(f"{who}: disk {k} changed ({', '.join(fields)})")
    return out


def _moves(old, new) -> dict[tuple[str, str], list[str]]:
    """VMs that left one plan for another (a plan split into batches, a batch re-split):
    (from, to) -> the VMs, said once rather than as a loss and a gain of each."""
    before = {vm: plan for plan, ids in old.plans.items() for vm in ids}
    moves: dict[tuple[str, str], list[str]] = {}
    for plan, ids in new.plans.items():
        for vm in ids:
            if before.get(vm, plan) != plan:
                moves.setdefault((before[vm], plan), []).append(vm)
    return moves


def _some(ids: list[str], lock, shown: int = 3) -> str:
    names = ", ".join(_named(i, lock) for i in ids[:shown])
    return names + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


def _members(what: str, was: list[str], now: list[str], old, new, moving: set[str] = frozenset()) -> list[str]:
    if was == now:
        return []
    gone = [i for i in was if i not in now and i not in moving]
    came = [i for i in now if i not in was and i not in moving]
    out = [f"{what}: {len(was)} -> {len(now)} VM(s)"]
    if came:
        out.append(f"{what} gains " + ", ".join(_named(i, new) for i in came))
    if gone:
        out.append(f"{what} loses " + ", ".join(_named(i, old) for i in gone))
    return out


def _named(vm_id: str, lock) -> str:
    vm = lock.vms.get(vm_id)
    return f"{vm_id} '{vm.name}'" if vm else vm_id


def _ids(ids: list[str]) -> str:
    return ", ".join(ids) if ids else "(nothing)"


def _pairs(d: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(d.items()))


def _size(n: int) -> str:
    return f"{n / GIB:g} GiB" if n % (GIB // 1024) == 0 else f"{n} bytes"
