"""The one interface every inventory source implements."""

from __future__ import annotations

from typing import Protocol

from .model import Inventory


class InventorySource(Protocol):
    """Reads a whole source inventory. Sources translate their own failures
    (sockets, TLS, HTTP status, SOAP faults) into compiler.errors.InventoryError
    subclasses at this edge; nothing network-specific leaks past it."""

    def snapshot(self) -> Inventory: ...

    def close(self) -> None: ...
