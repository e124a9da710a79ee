"""Kubernetes quantities ("30Gi", "1.5T", "100") and durations ("1h30m") as numbers.

Not kubernetes.utils.quantity: importing it loads the kubernetes client, which an
offline build must never load (tests/test_layers.py); the grammar needed here (a
number and one suffix, resource.Quantity's binary and decimal SI suffixes) is small.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SUFFIX = {"": 1, "m": Decimal("0.001"), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
           "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def parse(text) -> Decimal:
    """The quantity's value; ValueError when it is not one."""
    s = str(text).strip()
    number = s.rstrip("kMGTPEim")
    suffix = s[len(number):]
    if suffix not in _SUFFIX:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    try:
        return Decimal(number) * _SUFFIX[suffix]
    except InvalidOperation:
        raise ValueError(f"not a Kubernetes quantity: {text!r}") from None


def as_int(text) -> int:
    """The quantity in whole units (bytes); 0 when absent or unreadable (a snapshot's
    missing size)."""
    try:
        return int(parse(text or "0"))
    except ValueError:
        return 0


def duration_seconds(text: str) -> int:
    """`6h`, `90m`, `1h30m` (the schema's duration pattern) in seconds."""
    unit = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return int(sum(float(n) * unit[u] for n, u in re.findall(r"([0-9]+)(ms|s|m|h)", text)))
