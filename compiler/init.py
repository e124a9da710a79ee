"""`mtvgen init`: a starter site spec from an inventory.

Every datacenter's mappable networks and datastores are listed with a target
to fill in, and one plan per VM folder. Placeholders are YAML nulls marked
`# TODO`: the schema rejects them at their line until they are replaced, so a
half-edited spec can never be locked or built.
"""

from __future__ import annotations

import re

from . import names
from .yamlout import json_scalar
from .inventory.model import Inventory


TODO = "null  # TODO"


def _label(text: str) -> str:
    return names.to_label(re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "vms")


def starter_spec(site: str, source_type: str, url: str, inv: Inventory) -> str:
    lines = [
        f"# Starter spec for site {site}, written by `mtvgen init` from {inv.provider.origin or url}.",
        "# Replace every TODO, trim the plans, then run `mtvgen lock` and `mtvgen build`.",
        "apiVersion: mtvgen/v1",
        f"targetNamespace: {_label(site)}",
        "source:",
        f"  type: {source_type}",
        f"  url: {json_scalar(url) if url else TODO + ' https://<vcenter>/sdk'}",
        "  credentials:",
        "    externalSecret:",
        f"      store: {TODO} name of your (Cluster)SecretStore",
        f"      key: {json_scalar('mtv/' + site)}",
    ]
    dcs = sorted({n.datacenter for n in inv.networks.values()} | {d.datacenter for d in inv.datastores.values()})
    if len(dcs) > 1:
        lines.append(f"  datacenters: [{', '.join(json_scalar(d) for d in dcs)}]  # keep the ones this site migrates")
    lines.append("networks:")
    for dc in dcs:
        nets = sorted({n.name for n in inv.networks.values() if n.datacenter == dc and n.mappable
                       and "DVUplinks" not in n.name})
        for name in nets:
            lines += [f"  - source: {json_scalar(name)}", f"    datacenter: {json_scalar(dc)}" if len(dcs) > 1 else None,
                      f"    target: {TODO} pod | ignored | <nad> | <namespace>/<nad>"]
    lines.append("storage:")
    for dc in dcs:
        for name in sorted({d.name for d in inv.datastores.values() if d.datacenter == dc}):
            lines += [f"  - source: {json_scalar(name)}", f"    datacenter: {json_scalar(dc)}" if len(dcs) > 1 else None,
                      f"    storageClass: {TODO}"]
    lines.append("plans:")
    folders = sorted({vm.folder for vm in inv.vms.values() if not vm.is_template})
    used = set()
    for folder in folders:
        base = _label(folder.replace("/vm", "", 1))
        name, n = base, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        count = sum(1 for vm in inv.vms.values() if vm.folder == folder and not vm.is_template)
        lines += [f"  - name: {name}  # {count} VM(s)", "    select:", f"      - folder: {json_scalar(folder)}"]
        children = [f for f in folders if f.startswith(folder + "/")]
        if children:
            lines.append("    exclude:  # subfolders have plans of their own")
            lines += [f"      - folder: {json_scalar(c)}" for c in children]
    return "\n".join(x for x in lines if x is not None) + "\n"
