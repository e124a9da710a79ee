"""What finished runs actually did (`mtvgen status --record`): per VM the bytes copied and
how long the copy and the conversion took, from the Migration's pipeline timestamps, in
`sites/<site>/throughput.yaml` beside the lock: sorted, one line a VM (a later run of a
VM replaces its line), so it merges cleanly. The wave estimate prefers these figures to
the declared ones and says which it used.

In: a StatusReport (record) or the site directory (read). Out: the file; a Model.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import msgspec

from . import files, throughput, yamlio
from .yamlout import json_scalar

FILE = "throughput.yaml"


class Run(msgspec.Struct, frozen=True):
    id: str
    name: str
    plan: str
    migration: str
    copiedMiB: int           # noqa: N815  (the file's own key)
    copySeconds: float       # noqa: N815
    conversionSeconds: float  # noqa: N815
    completed: str


def record(site_dir: Path, site_status) -> int:
    """Add the site's succeeded VMs whose copy ended to its file; how many lines it has."""
    runs = read(site_dir)
    for p in site_status.plans:
        for vm in p.vms:
            if vm.outcome == "Succeeded" and vm.copy_s > 0:
                runs[vm.id] = Run(vm.id, vm.name, p.plan, p.migration, vm.copied_mb * 10**6 // 2**20,
                                  round(vm.copy_s, 1), round(vm.conversion_s, 1), vm.completed)
    lines = ["# What finished runs did, written by `mtvgen status --record`; one line a VM.",
             "# The wave estimate (MTV170) prefers these figures to the declared `throughput:`.", "runs:"]
    for vm_id in sorted(runs):
        fields = ", ".join(f"{k}: {json_scalar(v)}" for k, v in msgspec.to_builtins(runs[vm_id]).items())
        lines.append(f"  - {{{fields}}}")
    files.atomic_write(Path(site_dir) / FILE, "\n".join(lines) + "\n")
    return len(runs)


def read(site_dir: Path) -> dict[str, Run]:
    path = Path(site_dir) / FILE
    if not path.is_file():
        return {}
    runs, _shown = yamlio.load_records(path, "runs", Run, "a recorded VM",
                                       "it is written by `mtvgen status --record`; restore it from Git")
    return {run.id: run for run in runs}


def model(site_dir: Path, declared: throughput.Model | None) -> throughput.Model | None:
    """The declared model with measured figures where the file has them: the median per-VM
    copy rate and conversion time. The total stays declared (one VM's rate does not say
    what many share); without a declaration, the per-VM rate times the VMs in flight."""
    runs = [r for r in read(site_dir).values() if r.copySeconds > 0]
    if not runs:
        return declared
    per_vm = statistics.median(r.copiedMiB * 2**20 / r.copySeconds for r in runs)
    conversion = statistics.median(r.conversionSeconds for r in runs)
    in_flight = declared.in_flight if declared else throughput.DEFAULT_IN_FLIGHT
    total = declared.total if declared else per_vm * in_flight
    shown = f"measured from {len(runs)} VM(s)"
    if declared is not None:       # the host and datastore limits stay declared, as the total does
        return msgspec.structs.replace(declared, per_vm=per_vm, conversion=conversion, source=shown)
    return throughput.Model(per_vm, total, in_flight, conversion, source=shown)


