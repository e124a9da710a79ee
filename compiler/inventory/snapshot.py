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
from ..errors import InventoryError, Location, MtvgenError
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
