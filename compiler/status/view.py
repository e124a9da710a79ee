"""How a StatusReport looks: a tree per site (plan -> run -> VMs, with disk copy
progress bars) drawn by rich, or the same data as JSON or YAML for scripts.

In: a StatusReport. Out: a rich renderable, or text.
"""

from __future__ import annotations

import json

from rich.console import Group
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from .. import yamlout
from ..textsafe import printable
from .model import StatusReport

STYLE = {"Healthy": "green", "Progressing": "cyan", "Suspended": "yellow", "Degraded": "bold red",
         "Missing": "magenta", "Unknown": "bold magenta", "": "dim"}
OUTCOME = {"Succeeded": "green", "Failed": "bold red", "Canceled": "yellow", "Running": "cyan", "Queued": "dim"}


def _badge(status: str) -> Text:
    return Text(f"[{status or 'no run'}]", style=STYLE.get(status, ""))


def _vms(vms) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for column in ("VM", "outcome", "step", "disk copy", "", "precopies", "cutover", "error"):
        table.add_column(column, overflow="fold")
    for vm in vms:
        share = vm.copied_mb / vm.total_mb if vm.total_mb else 0.0
        # Text, never a str: rich would read a VM's name as markup (`[/bold]` crashed it)
        table.add_row(_plain(vm.name), Text(vm.outcome, style=OUTCOME.get(vm.outcome, "")),
                      _plain(vm.step or vm.phase),
                      ProgressBar(total=1.0, completed=share, width=20) if vm.total_mb else Text("—"),
                      Text(f"{vm.copied_mb:,}/{vm.total_mb:,} MB" if vm.total_mb else ""),
                      Text(str(vm.precopies) if vm.precopies else ""), _plain(vm.cutover), _plain(vm.error))
    return table


def _plain(text: str) -> Text:
    """Cluster text as it is: no rich markup, no terminal control sequences."""
    return Text(printable(text or ""))


def needs_a_person(vm) -> bool:
    """A VM someone must look at: it failed, was canceled, or carries an error while it runs."""
    return vm.outcome in ("Failed", "Canceled") or bool(vm.error)


def tree(report: StatusReport, all_vms: bool = False) -> Group:
    """Per plan its health and run; of its VMs, only those that need a person (a 10k-VM
    site printed 26,428 lines, one a VM), the rest counted, unless `all_vms`."""
    parts = []
    for site in report.sites:
        moved = f", ledger: {site.moved:,} moved, {site.planned:,} planned, {site.left:,} left in no plan" \
            if site.moved or site.left else ""
        root = Tree(Text.assemble(("site ", "bold"), (site.site, "bold"), f"  (context {printable(site.context)}{moved})"))
        _setup(root, site.setup)
        for p in site.plans:
            label = Text.assemble(_badge(p.health), " ", (printable(p.object), "bold"), f"  {printable(p.message)}")
            node = root.add(label)
            if p.migration:
                node.add(Text.assemble(_badge(p.run_health), " ", printable(p.migration),
                                       f"  {printable(p.run_message)}"))
            if p.intent:
                node.add(Text(f"-> {printable(p.intent)}", style="yellow"))
            shown = p.vms if all_vms else tuple(vm for vm in p.vms if needs_a_person(vm))
            if shown:
                node.add(_vms(shown))
            rest = len(p.vms) - len(shown)
            if rest:
                counts = ", ".join(f"{n} {k.lower()}" for k in OUTCOME
                                   if (n := sum(1 for vm in p.vms if vm.outcome == k and not needs_a_person(vm))))
                node.add(Text(f"{rest} more VM(s): {counts} (--vms lists every VM)", style="dim"))
        parts.append(root)
    return Group(*parts)


def _setup(root: Tree, objects) -> None:
    """What the plans stand on: only what is not Healthy, by name; the rest counted."""
    for o in objects:
        if o.health != "Healthy":
            root.add(Text.assemble(_badge(o.health), f" {o.kind} ", (printable(o.name), "bold"),
                                   f"  {printable(o.message)}"))
    well = [o for o in objects if o.health == "Healthy"]
    if well:
        kinds = ", ".join(f"{n} {k}" for k in dict.fromkeys(o.kind for o in well)
                          if (n := sum(1 for o in well if o.kind == k)))
        root.add(Text(f"[Healthy] {kinds}", style="dim"))


def lines(report: StatusReport) -> dict[str, str]:
    """One line a plan, for a log rather than a terminal (`status --watch` into a pipe):
    plan -> its health, its run's health and the VM counts, as plain text."""
    out = {}
    for site in report.sites:
        for o in site.setup:
            out[f"{site.site}/{o.kind}/{o.name}"] = printable(f"{site.site} {o.kind} {o.name} [{o.health}] {o.message}")
        for p in site.plans:
            counts = ", ".join(f"{n} {k.lower()}" for k in OUTCOME if (n := p.counts.get(k)))
            run = f"; run {p.migration} [{p.run_health}] {p.run_message}" if p.migration else ""
            run += f"; {p.intent}" if p.intent else ""
            out[f"{site.site}/{p.plan}"] = printable(f"{site.site}/{p.plan} [{p.health or 'no run'}] {p.message}"
                                                     f"{run}" + (f"; VMs: {counts}" if counts else ""))
    return out


def as_json(report: StatusReport) -> str:
    return json.dumps(report.as_dict(), indent=2) + "\n"


def as_yaml(report: StatusReport) -> str:
    return yamlout.dump(report.as_dict())


FORMATS = {"json": as_json, "yaml": as_yaml}
