"""`mtvgen init`: a starter site spec from an inventory.

Every datacenter's mappable networks and datastores are listed with a target
to fill in, and one plan per VM folder. Placeholders are YAML nulls marked
`# TODO`: the schema rejects them at their line until they are replaced, so a
half-edited spec can never be locked or built.
"""

from __future__ import annotations

import re

import msgspec

from . import names
from .tables import PROVIDER_TYPES
from .yamlout import json_scalar
from .inventory.model import Inventory


TODO = "null  # TODO"


def _label(text: str) -> str:
    return names.to_label(re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "vms")


def _plan_name(folder: str, used: set[str]) -> str:
    """Short: the folder's own name (objects are named <site>-<plan>, so no datacenter or
    site prefix); its path below the datacenter's VM folder when that name is taken."""
    # vSphere: the path below the datacenter's VM folder; other sources: the folder itself
    # (an OpenStack project, an EC2 zone, a Nutanix cluster)
    if "/vm/" in folder:
        below = folder.split("/vm/", 1)[1]
    else:   # a datacenter's own VM folder is `vms`; elsewhere the folder's name
        below = "" if folder.endswith("/vm") else folder.strip("/")
    for candidate in (_label(below.rsplit("/", 1)[-1]), _label(below)):
        if candidate not in used:
            return candidate
    base, n = _label(below), 2
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


class Answers(msgspec.Struct, frozen=True):
    """What `init` may be told up front instead of leaving a TODO (the quick start's way)."""
    secret_store: str = ""
    networks: dict[str, str] = {}      # source network name (or `*`: every other) -> target
    storage_class: str = ""            # for every datastore
    argocd_repo: str = ""              # delivery by Argo CD from this repository


def starter_spec(site: str, source_type: str, url: str, inv: Inventory, answers: Answers = Answers()) -> str:
    net_target = lambda name: answers.networks.get(name) or answers.networks.get("*")  # noqa: E731
    lines = [
        f"# Starter spec for site {site}, written by `mtvgen init` from {inv.provider.origin or url}.",
        "# Replace every TODO, trim the plans, then run `mtvgen lock` and `mtvgen build`.",
        "apiVersion: mtvgen/v1",
        f"targetNamespace: {_label(site)}",
        "source:",
        f"  type: {source_type}",
        f"  url: {json_scalar(url) if url else TODO + ' ' + PROVIDER_TYPES[source_type].url_hint}"
        if PROVIDER_TYPES[source_type].needs_url else None,
        "  credentials:",
        "    externalSecret:",
        f"      store: {json_scalar(answers.secret_store) if answers.secret_store else TODO + ' name of your (Cluster)SecretStore'}",
        f"      key: {json_scalar('mtv/' + site)}",
    ]
    ptype = PROVIDER_TYPES[source_type]
    if ptype.required_data:         # not secret, but Forklift needs them in the Secret (EC2's region...)
        lines += ["    data:"] + [f"      {key}: {TODO}" for key in ptype.required_data]
    if ptype.required_settings:
        lines += ["  settings:"] + [f"    {key}: {TODO}" for key in ptype.required_settings]
    if source_type == "vsphere":
        lines += ["  # vddkImage: quay.io/<you>/vddk:<version>  # needed for warm plans and skipGuestConversion (MTV044)"]
    # only what the VMs use: a mapping no VM needs is a warning (MTV035) on the first build
    vms = [vm for vm in inv.vms.values() if not vm.is_template]
    used_nets = {i for vm in vms for i in vm.network_ids}
    used_stores = {i for vm in vms for i in vm.datastore_ids}
    # datacenters scope names on vSphere and oVirt (source.datacenters); elsewhere one list
    dcs = sorted({n.datacenter for n in inv.networks.values()} | {d.datacenter for d in inv.datastores.values()}) \
        if source_type in ("vsphere", "ovirt") else [""]
    if len(dcs) > 1:
        lines.append(f"  datacenters: [{', '.join(json_scalar(d) for d in dcs)}]  # keep the ones this site migrates")
    lines.append("networks:")
    for dc in dcs:
        # OpenShift NADs are mapped by the plans of their namespace (a NAD serves only its own)
        nets = sorted({n.name for n in inv.networks.values() if (n.datacenter == dc or len(dcs) == 1) and n.mappable
                       and n.id in used_nets
                       and not (source_type == "openshift" and n.namespace)})
        for name in nets:
            lines += [f"  - source: {json_scalar(name)}", f"    datacenter: {json_scalar(dc)}" if len(dcs) > 1 else None,
                      f"    target: {json_scalar(net_target(name))}" if net_target(name) else
                      f"    target: {TODO} pod | ignored | <nad> | <namespace>/<nad>"]
    lines.append("storage:")
    for dc in dcs:
        for name in sorted({d.name for d in inv.datastores.values() if (d.datacenter == dc or len(dcs) == 1)
                            and d.id in used_stores}):
            lines += [f"  - source: {json_scalar(name)}", f"    datacenter: {json_scalar(dc)}" if len(dcs) > 1 else None,
                      f"    storageClass: {json_scalar(answers.storage_class) if answers.storage_class else TODO}"]
    if source_type == "vsphere" and "pod" in answers.networks.values():
        # Forklift preserves static IPs by default, which the pod network cannot (MTV036)
        lines += ["defaults:", "  preserveStaticIPs: false   # VMs on the pod network take the addresses it gives"]
    if answers.argocd_repo:
        lines += ["delivery:", f"  repoURL: {json_scalar(answers.argocd_repo)}", "  revision: main",
                  "  argocd: {}                     # a root Application per site, one child per sync unit"]
    else:
        lines += [
            "# How the output reaches the cluster. Without it, `mtvgen build` writes the manifests only",
            "# (no argocd/, flux/ or bootstrap/). Keep one of the two, with your repository:",
            "# delivery:",
            "#   repoURL: https://git.example.com/platform/migrations.git",
            "#   revision: main",
            "#   argocd: {}                   # a root Application per site, one child per sync unit",
            "#   # flux: {}                   # or: one Kustomization per sync unit",
        ]
    lines += [
        "# Windows the plans of a wave may start in (plans say `wave: 1`):",
        "# waves:",
        "#   - {wave: 1, start: \"2027-01-09T21:00:00+01:00\", duration: 8h}",
    ]
    lines.append("plans:")
    lines += _namespace_plans(inv, net_target) if source_type == "openshift" else _folder_plans(inv)
    return "\n".join(x for x in lines if x is not None) + "\n"


def _folder_plans(inv: Inventory) -> list[str]:
    """One plan per VM folder; a folder's plan leaves out its subfolders, which have their
    own. Only the top-most ones: excluding /a/b and then /a/b/c, the second matches
    nothing the first has not removed (MTV011). All plans share the target namespace, so
    a VM whose name another VM already takes gets a name of its own (MTV020)."""
    vms = [vm for vm in sorted(inv.vms.values(), key=lambda v: (v.path, v.id)) if not vm.is_template]
    folders = sorted({vm.folder for vm in vms})
    taken: set[str] = set()
    used: set[str] = set()
    lines = []
    for folder in folders:
        name = _plan_name(folder, used)
        used.add(name)
        mine = [vm for vm in vms if vm.folder == folder]
        lines += [f"  - name: {name}  # {len(mine)} VM(s)", "    select:", f"      - folder: {json_scalar(folder)}"]
        below = [f for f in folders if f.startswith(folder + "/")]
        top = [f for f in below if not any(f.startswith(other + "/") for other in below)]
        if top:
            lines.append("    exclude:  # subfolders have plans of their own")
            lines += [f"      - folder: {json_scalar(c)}" for c in top]
        renamed = []
        for vm in mine:
            target = names.target_vm_name(vm.name, vm.id)
            if target in taken:
                n = 2
                while f"{target}-{n}" in taken:
                    n += 1
                renamed.append((vm, target, f"{target}-{n}"))
                target = f"{target}-{n}"
            taken.add(target)
        if renamed:
            lines.append("    vms:  # another VM already becomes this name in the target namespace")
            for vm, was, now in renamed:
                lines += [f"      - match: {json_scalar(vm.path or vm.id)}  # would be {was}",
                          f"        targetName: {now}"]
    return lines


def _namespace_plans(inv: Inventory, net_target) -> list[str]:
    """OpenShift sources: one plan per namespace, into a namespace of the same name, so two
    VMs of one name in two namespaces do not land on one name (MTV020); each maps the NADs
    its VMs use (a NAD target must be in the plan's namespace or `default`, MTV033)."""
    lines = []
    for ns in sorted({vm.namespace for vm in inv.vms.values()}):
        vms = [vm for vm in inv.vms.values() if vm.namespace == ns]
        lines += [f"  - name: {_label(ns)}  # {len(vms)} VM(s)", f"    targetNamespace: {_label(ns)}", "    select:",
                  f"      - namespace: {json_scalar(ns)}"]
        used = [inv.networks[i] for vm in vms for i in vm.network_ids if i in inv.networks]
        nads = sorted({n.path for n in used if n.namespace})
        if nads:     # a plan's networks replace the site's: the pod network too
            lines.append("    networks:")
            for name in sorted({n.name for n in used if not n.namespace}):
                target = net_target(name)
                lines += [f"      - source: {json_scalar(name)}",
                          f"        target: {json_scalar(target)}" if target else
                          f"        target: {TODO} pod | ignored | <nad> | {_label(ns)}/<nad>"]
        for path in nads:
            target = net_target(path) or net_target(path.split("/", 1)[1])
            lines += [f"      - source: {json_scalar(path)}",
                      f"        target: {json_scalar(target)}" if target else
                      f"        target: {TODO} pod | ignored | <nad> | {_label(ns)}/<nad>"]
    return lines
