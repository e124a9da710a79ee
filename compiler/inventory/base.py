"""The one interface every inventory source implements."""

from __future__ import annotations

from typing import Protocol

from .model import Inventory


class InventorySource(Protocol):
    """Reads a whole source inventory. Sources translate their own failures
    (sockets, TLS, HTTP status, SOAP faults) into compiler.errors.InventoryError
    subclasses at this edge; nothing network-specific leaks past it."""

    def snapshot(self, selects: frozenset[str] | None = None) -> Inventory:
        """`selects`: the selector keys the site uses (None: all). A source may read
        only what those need for every VM, and the rest in `details`."""

    def details(self, inv: Inventory, vm_ids: set[str]) -> Inventory:
        """Fill in what snapshot() left out for the selected VMs (a source that reads
        everything up front returns `inv` as it is). A VM its details show Forklift's
        inventory would not list leaves `inv.vms` for `inv.skipped`."""

    def vms(self, ids: set[str], tags: bool = False) -> Inventory:
        """Only these VMs (by id) with all their facts, and what names their paths and maps
        (`mtvgen verify`); `tags`: their tags too, where a source reads them apart. A source
        that reads everything anyway filters a snapshot."""

    def close(self) -> None: ...
