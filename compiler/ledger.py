"""The ledger: what has moved, for every site of the repository (`sites/ledger.yaml`).

`mtvgen done` writes it from what the cluster says succeeded (the run's facts: a saved
`mtvgen status -o json` or the cluster read then), never from intent. Every lock and
build reads it: a VM that has moved is not selected again by a folder, a glob or a
`where:` (it is skipped and counted), naming it is an error unless the plan lists it
under `remigrate:`, and a lock that still holds it in a plan that has not run is an
error too.

One line a VM, sorted by source and id, so two pull requests that each record a run
merge without a conflict. A VM is known by its source provider (the identity the lock
records: vCenter's instance UUID, the Provider's UID) and its id.

In: the sites directory. Out: the Ledger, and the file written atomically.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from . import files, yamlio
from .inventory.model import ProviderInfo
from .yamlout import json_scalar

LEDGER_FILE = "ledger.yaml"


class Entry(msgspec.Struct, frozen=True, omit_defaults=True):
    source: str          # provider_key of the source
    id: str              # the VM's id on it
    name: str            # its name then
    namespace: str       # where it landed
    target: str          # its name there
    plan: str            # <site>/<plan or batch>
    migration: str       # the Migration that moved it
    date: str            # YYYY-MM-DD (UTC)


class Ledger(msgspec.Struct):
    entries: dict[tuple[str, str], Entry] = {}
    file: str = ""

    def moved(self, provider: ProviderInfo, vm_id: str) -> Entry | None:
        return self.entries.get((provider_key(provider), vm_id))

    def of_source(self, provider: ProviderInfo) -> dict[str, Entry]:
        key = provider_key(provider)
        return {vm: e for (source, vm), e in self.entries.items() if source == key}


class Counts(msgspec.Struct, frozen=True):
    moved: int = 0       # VMs the ledger records as moved by this site's plans
    planned: int = 0     # VMs in the site's plans that have not run
    left: int = 0        # VMs in the folders the site selects that no plan holds (the lock's `left`)

    def shown(self) -> str:
        left = f", {self.left:,} left in the selected folders in no plan" if self.left else ""
        return f"{self.moved:,} VM(s) moved by this site, {self.planned:,} planned in plans that have not run{left}"


def counts(site, lock) -> Counts:
    """The site's progress against the ledger, as the summary and `status` show it. `site`:
    expanded (lifecycle.expand), so a done batch counts as done."""
    moved = sum(1 for e in site.ledger.entries.values() if e.plan.startswith(f"{site.name}/")) \
        if site.ledger is not None else 0
    if lock is None:
        return Counts(moved)
    planned = sum(len(lock.plans.get(p.name, [])) for p in site.plans if not p.retired and not p.done)
    return Counts(moved, planned, sum(lock.left.values()))


def provider_key(info: ProviderInfo) -> str:
    """A source provider as the ledger names it: its type and the identity the lock records
    (a vCenter's instance UUID; a Forklift Provider's UID), else where it was read from."""
    ident = info.identity or {}
    return f"{info.type}:{ident.get('instanceUuid') or ident.get('uid') or ident.get('name') or info.origin}"


def load(sites_dir: Path) -> Ledger:
    path = Path(sites_dir) / LEDGER_FILE
    if not path.is_file():
        return Ledger()
    moved, shown = yamlio.load_records(path, "moved", Entry, "a moved VM (source, id, name, namespace, target, plan, "
                                       "migration, date)", "it is written by `mtvgen done`; restore it from Git")
    entries = {(e.source, e.id): e for e in moved}
    return Ledger(entries, shown)


def dump(ledger: Ledger) -> str:
    lines = ["# What has moved, written by `mtvgen done` from what the cluster says succeeded.",
             "# One line a VM: a lock or build of any site skips these VMs (`remigrate:` takes one back).",
             "moved:"]
    for key in sorted(ledger.entries):
        e = ledger.entries[key]
        fields = ", ".join(f"{k}: {json_scalar(v)}" for k, v in msgspec.to_builtins(e).items())
        lines.append(f"  - {{{fields}}}")
    return "\n".join(lines) + "\n"


def record(sites_dir: Path, new: list[Entry]) -> int:
    """Add `new` (a later run of a VM replaces its entry); returns how many were new."""
    ledger = load(sites_dir)
    added = sum(1 for e in new if (e.source, e.id) not in ledger.entries)
    for e in new:
        ledger.entries[(e.source, e.id)] = e
    files.atomic_write(Path(sites_dir) / LEDGER_FILE, dump(ledger))
    return added
