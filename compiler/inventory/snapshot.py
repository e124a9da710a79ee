"""An inventory snapshot file: the source inventory exported in the shape of the
Forklift inventory API, so a lock can be made without any live endpoint.

    provider: {type: vsphere, uid: ..., instanceUuid: ..., product: ...}
    vms: [...]          # GET /providers/<type>/<uid>/vms?detail=all
    networks: [...]     # ... one key per collection in shapes.COLLECTIONS
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec

from .. import yamlio
from ..errors import InventoryError, Location, MtvgenError, UsageError
from . import shapes
from .model import Inventory, ProviderInfo


SNAPSHOT_MAX_NODES = 100_000_000   # inventories are big; aliases still cannot explode them


class SnapshotFile:
    def __init__(self, path: Path, expected_type: str):
        self.path = Path(path)
        self.expected_type = expected_type

    def snapshot(self, selects: frozenset[str] | None = None) -> Inventory:  # reads all fields anyway
        where = Location(str(self.path))
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise InventoryError(f"cannot read inventory snapshot: {exc.strerror}", where=where,
                                 fix="pass the path of an exported inventory file with --inventory") from exc
        try:
            text = yamlio.decode(raw, str(self.path), fix="re-export the inventory as UTF-8")
            # YAML 1.2 booleans: a VM named `yes` stays a string
            data = json.loads(text) if self.path.suffix == ".json" else \
                yamlio.load_fast(text, str(self.path), max_nodes=SNAPSHOT_MAX_NODES)
        except json.JSONDecodeError as exc:
            raise InventoryError(f"inventory snapshot is not valid JSON: {exc.msg}",
                                 where=Location(str(self.path), exc.lineno, exc.colno),
                                 fix="re-export the inventory") from None
        except MtvgenError as exc:
            raise InventoryError(f"inventory snapshot: {exc.what}", where=exc.where or where,
                                 fix=exc.fix or "re-export the inventory") from None
        except (ValueError, RecursionError) as exc:
            raise InventoryError(f"inventory snapshot is not valid JSON/YAML: {exc}", where=where,
                                 fix="re-export the inventory") from exc
        if not isinstance(data, dict) or not isinstance(data.get("provider"), dict):
            raise InventoryError("inventory snapshot has no 'provider' object", where=where,
                                 fix="the file needs `provider: {type: ...}` and one list per collection")
        ptype = data["provider"].get("type")
        if ptype != self.expected_type:
            raise InventoryError(f"inventory snapshot is for provider type '{ptype}', the site's source is "
                                 f"'{self.expected_type}'", where=self._at(text, ("provider", "type")),
                                 fix="point --inventory at the export of this site's source provider")
        identity = {k: v for k, v in data["provider"].items() if k not in ("type",) and isinstance(v, (str, int))}
        info = ProviderInfo(ptype, identity, origin=f"snapshot:{self.path.name}")
        try:
            inv = shapes.read(ptype, data, info)
        except shapes.ShapeError as exc:
            raise InventoryError(f"inventory snapshot is not the shape of the Forklift inventory API ({exc})",
                                 where=self._at(text, exc.path),
                                 fix="compare the file with what the Forklift inventory API returns for this "
                                     "provider type, or re-export it") from exc
        _check_types(inv, data, ptype, lambda path: self._at(text, path))
        return inv

    def _at(self, text: str, path: tuple) -> Location:
        """The line of the value at `path`, looked up only when there is an error to report."""
        return yamlio.position(text, str(self.path), path) if path else Location(str(self.path))

    def details(self, inv: Inventory, vm_ids: set[str]) -> Inventory:
        return inv      # snapshot() read every field already

    def vms(self, ids: set[str], tags: bool = False) -> Inventory:
        inv = self.snapshot()
        inv.vms = {i: v for i, v in inv.vms.items() if i in ids}
        return inv

    def close(self) -> None:
        pass


def _check_types(inv: Inventory, data: dict, ptype: str, position) -> None:
    """Every fact of the declared type. A snapshot is written by hand or by tools, and YAML
    reads some unquoted text as numbers (the MAC 10:20:30:40:50:59 is a base-60 number in
    YAML 1.1): such a value would be locked, and the lock then refused by `mtvgen build`."""
    for label, records in (("VM", inv.vms), ("network", inv.networks), ("datastore", inv.datastores),
                           ("host", inv.hosts)):
        for record_id, record in records.items():
            try:
                msgspec.convert(msgspec.to_builtins(record), type(record))
            except msgspec.ValidationError as exc:
                raise InventoryError(f"inventory snapshot: {label} {record_id!r} has a value of the wrong type: {exc}",
                                     where=position(_path_of(data, ptype, record_id)),
                                     fix="quote the value (YAML reads 10:20:30 or 1_000 as a number)") from None


def _path_of(data: dict, ptype: str, record_id: str) -> tuple:
    """(collection, index) of the object a record was read from: the first whose id is
    the record's (OpenShift objects have a uid); () when none is."""
    for name in shapes.COLLECTIONS[ptype]:
        for i, item in enumerate(data.get(name) or []):
            if str(item.get("id", item.get("uid"))) == record_id:
                return (name, i)
    return ()


def export(inv: Inventory) -> dict:
    """An Inventory as a snapshot file holds it: the Forklift inventory API's vSphere
    shapes (kubev2v/forklift d42511b pkg/controller/provider/web/vsphere), written so
    that shapes.read gives back the same Inventory (`mtvgen inventory --save`, tested
    round trip). vSphere only: the other types are read through the Forklift inventory,
    whose own JSON is the snapshot."""
    if inv.provider.type != "vsphere":
        raise UsageError(f"--save writes vSphere inventories; a {inv.provider.type} source is read through the "
                          "Forklift inventory, whose JSON is already a snapshot",
                          fix="save GET /providers/<type>/<uid>/<collection>?detail=4 of each collection "
                              "(shapes.COLLECTIONS) into one file, under `provider:` and the collection names")
    ref = lambda kind, i: {"kind": kind, "id": i} if i else None  # noqa: E731
    clusters = sorted({h.cluster for h in inv.hosts.values() if h.cluster})
    out: dict = {"provider": {"type": "vsphere", **inv.provider.identity}}
    out["clusters"] = [{"id": f"cluster:{c}", "name": c} for c in clusters]
    out["hosts"] = [{"id": h.id, "name": h.name, "path": h.path, "cluster": ref("Cluster", f"cluster:{h.cluster}"
                                                                                  if h.cluster else ""),
                     "inMaintenance": h.in_maintenance, "networkAdapters": [{"ipAddress": a} for a in h.ip_addresses]}
                    for h in inv.hosts.values()]
    out["networks"] = [{"id": n.id, "name": n.name, "path": n.path, "variant": n.variant, "key": n.key}
                       for n in inv.networks.values()]
    out["datastores"] = [{"id": d.id, "name": d.name, "path": d.path} for d in inv.datastores.values()]
    out["vms"] = [_vm(v) for v in inv.vms.values()]
    return out


def _vm(v) -> dict:
    return {
        "id": v.id, "name": v.name, "path": v.path, "host": {"kind": "Host", "id": v.host} if v.host else None,
        "powerState": v.power_state, "firmware": v.firmware, "guestId": v.guest_id, "guestName": v.guest_name,
        "uuid": v.uuid, "instanceUuid": v.instance_uuid, "changeTrackingEnabled": v.change_tracking,
        "snapshot": {"kind": "VirtualMachineSnapshot", "id": "snapshot"} if v.has_snapshot else None,
        "isTemplate": v.is_template, "toolsStatus": v.tools_status,
        "guestNetworks": [{"ip": ip} for ip in v.ip_addresses],
        "nics": [{"network": {"kind": "Network", "id": n.network}, "mac": n.mac} for n in v.nics],
        "disks": [{"key": d.key, "datastore": {"kind": "Datastore", "id": d.datastore}, "capacity": d.capacity,
                   "file": d.file, "shared": d.shared, "rdm": d.rdm, "mode": d.mode, "bus": d.bus,
                   "changeTrackingEnabled": d.change_tracking} for d in v.disks],
        "devices": [{"kind": k} for k in v.devices],
        "cpuHotAddEnabled": v.cpu_hot_add, "cpuHotRemoveEnabled": v.cpu_hot_remove,
        "memoryHotAddEnabled": v.memory_hot_add, "tpmEnabled": v.tpm, "cpuCount": v.cpu_count,
        "memoryMB": v.memory_mib,
        # model/vsphere Tag: the category goes where Forklift keeps its id (a direct read knows its name)
        "tags": [{"id": f"{c}/{t}", "name": t, "categoryID": c, "description": "", "usedBy": []} for c, t in v.tags],
        "customDef": [{"key": name, "name": name} for name, _ in v.attributes],
        "customValues": [{"key": name, "value": value} for name, value in v.attributes],
        "concerns": [{"category": c, "label": label} for c, label in v.concerns],
    }
