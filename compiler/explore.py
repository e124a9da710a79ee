"""`mtvgen inventory`: what a source holds, as a person reads it or a script parses it,
with the facts the checks use (guest OS, disks, CBT, snapshots, power state, concerns).

In: an Inventory (from a lock, a snapshot or a live source), the kind of object, and
the VMs a selector preview chose. Out: rows (plain dicts, for a table, JSON or YAML).
Pure: reading the source and printing are the command's.
"""

from __future__ import annotations

import msgspec

from . import selection
from .inventory.model import VM, Inventory

KINDS = ("vms", "networks", "datastores", "hosts", "folders")
GIB = 2**30


def rows(inv: Inventory, kind: str, vms: list[VM] | None = None) -> list[dict]:
    """`vms`: the VMs to list (a selector's preview), default every VM but templates."""
    if kind == "vms":
        chosen = vms if vms is not None else sorted((v for v in inv.vms.values() if not v.is_template),
                                                    key=lambda v: (v.path, v.id))
        return [_vm(inv, v) for v in chosen]
    if kind == "folders":
        counts: dict[str, int] = {}
        for v in inv.vms.values():
            if not v.is_template:
                counts[v.folder] = counts.get(v.folder, 0) + 1
        return [{"folder": f, "vms": n} for f, n in sorted(counts.items())]
    records = {"networks": inv.networks, "datastores": inv.datastores, "hosts": inv.hosts}[kind]
    used = _used_by(inv, kind)
    out = []
    for r in sorted(records.values(), key=lambda r: (r.path or r.name, r.id)):
        row = {k: v for k, v in msgspec.to_builtins(r).items() if v not in ("", [], False)}
        row["vms"] = used.get(r.id, 0)
        out.append(row)
    return out


def _used_by(inv: Inventory, kind: str) -> dict[str, int]:
    """How many VMs use each network, datastore or host: what a mapping would cover."""
    count: dict[str, int] = {}
    for v in inv.vms.values():
        ids = v.network_ids if kind == "networks" else v.datastore_ids if kind == "datastores" else (v.host,)
        for i in ids:
            count[i] = count.get(i, 0) + 1
    return count


def _vm(inv: Inventory, v: VM) -> dict:
    def fact(name: str):          # as `where:` reads it (selection.FIELDS)
        return selection.BY_NAME[name].read(v, inv)
    return {
        "name": v.name, "id": v.id, "path": v.path or v.namespace + "/" + v.name, "power": v.power_state,
        "guest": v.guest_id, "firmware": v.firmware, "cluster": v.cluster, "host": fact("host"),
        "disks": len(v.disks), "diskGiB": round(sum(d.capacity for d in v.disks) / GIB, 1),
        "datastores": fact("datastores"), "networks": fact("networks"),
        "cbt": v.change_tracking, "snapshot": v.has_snapshot,
        "concerns": [label for _, label in v.concerns],
    }


# the columns of the table view, per kind (JSON and YAML carry every field)
COLUMNS = {
    "vms": ("name", "path", "power", "guest", "disks", "diskGiB", "datastores", "networks", "cbt", "snapshot",
            "concerns"),
    "networks": ("name", "path", "variant", "vms"),
    "datastores": ("name", "path", "vms"),
    "hosts": ("name", "path", "cluster", "vms"),
    "folders": ("folder", "vms"),
}


def cell(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
