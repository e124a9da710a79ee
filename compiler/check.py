"""Stage 5: pre-flight checks. Pure: spec + lock in, diagnostics out.

Each check mirrors something the Forklift controllers (or the migration itself)
would reject later; CATALOG in diagnostics.py says which. Checks are small
functions registered in CHECKS, run in order, all of them every time, so one
run reports every problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable

import yaml

from . import names
from .diagnostics import Diagnostic
from .lock import Lock, staleness
from .plan_model import PlannedVM, match_vms, planned
from .spec import PlanSpec, Site
from .tables import PROVIDER_TYPES


@dataclass
class Context:
    site: Site
    lock: Lock
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    allow_plaintext: bool = False
    _planned: dict = field(default_factory=dict)

    def planned(self, plan: PlanSpec) -> tuple[list[PlannedVM], list[Diagnostic]]:
        """The plan's VMs with overrides applied (and the override problems), computed once."""
        if plan.name not in self._planned:
            self._planned[plan.name] = planned(plan, self.lock)
        return self._planned[plan.name]

    def vms(self, plan: PlanSpec) -> list[PlannedVM]:
        return self.planned(plan)[0]


Check = Callable[[Context], Iterable[Diagnostic]]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    CHECKS.append(fn)
    return fn


def run(site: Site, lock: Lock, *, now: datetime | None = None, allow_plaintext: bool = False) -> list[Diagnostic]:
    ctx = Context(site, lock, now or datetime.now(timezone.utc), allow_plaintext)
    stale = staleness(site, lock)
    if stale:  # everything else would be judged against the wrong data
        return stale
    out: list[Diagnostic] = []
    for fn in CHECKS:
        out.extend(fn(ctx))
    return out


def _vm_diag(code, p: PlannedVM, plan: PlanSpec, text: str, **kw) -> Diagnostic:
    return Diagnostic(code, f"VM {p.vm.name!r} ({p.vm.id}): {text}", kw.pop("where", p.where), plan=plan.name,
                      vm=p.vm.name, **kw)


# ------------------------------------------------------------ plans and VMs

@check
def overrides(ctx: Context):
    for plan in ctx.site.plans:
        planned_vms, problems = ctx.planned(plan)
        yield from problems
        vms = [p.vm for p in planned_vms]
        for vm, _cut, where in plan.start.vm_cutover if plan.start else ():
            hits = len(match_vms(vm, vms))
            if hits != 1:
                yield Diagnostic("MTV016", f"vmCutover vm {vm!r} matches {hits} VMs of the plan", where, plan=plan.name)


@check
def plans_and_target_names(ctx: Context):
    owner, targets = {}, {}
    for plan in ctx.site.plans:
        if not ctx.lock.plans.get(plan.name):
            yield Diagnostic("MTV015", f"plan '{plan.name}' has no VM in the lock", plan.where, plan=plan.name)
        for p in ctx.vms(plan):
            if p.vm.id in owner and owner[p.vm.id] != plan.name:
                yield _vm_diag("MTV014", p, plan, f"is also in plan '{owner[p.vm.id]}'", where=plan.where)
            owner.setdefault(p.vm.id, plan.name)
            if p.explicit_target and not (names.is_subdomain(p.target_name) and len(p.target_name) <= 63):
                yield _vm_diag("MTV021", p, plan, f"targetName {p.target_name!r} is not a DNS-1123 subdomain "
                               "of at most 63 characters",
                               help=f"for example {names.target_vm_name(p.target_name, p.vm.id)!r}")
                continue
            if not p.explicit_target and p.target_name != p.vm.name:
                yield _vm_diag("MTV022", p, plan, f"will be created as {p.target_name!r}")
            key = (plan.target_namespace, p.target_name)
            if key in targets and targets[key][0].vm.id != p.vm.id:
                other, other_plan = targets[key]
                yield _vm_diag("MTV020", p, plan, f"and {other.vm.name!r} ({other.vm.id}, plan '{other_plan}') both "
                               f"become {p.target_name!r} in namespace {plan.target_namespace}",
                               help="set a distinct targetName in `vms:` for one of them")
            targets.setdefault(key, (p, plan.name))


# ------------------------------------------------------------ mappings

def _targets(ctx: Context, m) -> dict[str, object]:
    """Map id -> the spec entry that covers it."""
    out = {}
    for entry, ids in zip(m.entries, ctx.lock.maps.get(m.name, []), strict=True):
        for i in ids:
            out.setdefault(i, entry)
    return out


@check
def network_mapping(ctx: Context):
    used: dict[str, set] = {}
    for plan in ctx.site.plans:
        m = plan.network_map
        covered = _targets(ctx, m)
        on_pod = []
        for entry, ns, name in m.nads():
            if ns not in (plan.target_namespace, "default"):
                yield Diagnostic("MTV033", f"NAD {ns}/{name} is outside target namespace "
                                 f"{plan.target_namespace} and 'default' (plan '{plan.name}')", entry.where,
                                 plan=plan.name)
        for p in ctx.vms(plan):
            pods = 0
            for nic in p.vm.nics:
                if not nic.network:
                    continue
                entry = covered.get(nic.network)
                used.setdefault(m.name, set()).add(nic.network)
                if entry is None:
                    net = ctx.lock.networks.get(nic.network)
                    label = f"{net.name!r} ({nic.network})" if net else repr(nic.network)
                    yield _vm_diag("MTV030", p, plan, f"network {label} is not mapped",
                                   where=plan.where, help=f"add `- source: {net.name if net else nic.network}` "
                                   "with a target to `networks:`")
                elif entry.target == "pod":
                    pods += 1
            if pods > 1:
                yield _vm_diag("MTV032", p, plan, f"{pods} NICs map to the pod network")
            if pods and ctx.site.source.type == "vsphere":
                on_pod.append(p)
        if on_pod and plan.options.get("preserveStaticIPs", True):
            yield Diagnostic("MTV036", f"{len(on_pod)} VM(s) of plan '{plan.name}' land on the pod network while "
                             "preserveStaticIPs is true", plan.option_where("preserveStaticIPs"), plan=plan.name)
        transfer = plan.transfer_network
        if transfer and transfer[0] not in (plan.target_namespace, "default"):
            yield Diagnostic("MTV037", f"transfer network {'/'.join(transfer)} is outside {plan.target_namespace} "
                             "and 'default'", plan.option_where("transferNetwork"), plan=plan.name)
    yield from _unused(ctx, "network", used)


@check
def storage_mapping(ctx: Context):
    used: dict[str, set] = {}
    ptype = ctx.site.source.type
    for plan in ctx.site.plans:
        m = plan.storage_map
        covered = _targets(ctx, m)
        if ptype == "ova" and len(m.entries) != 1:
            where = m.entries[1].where if len(m.entries) > 1 else plan.where
            yield Diagnostic("MTV061", f"OVA storage map {m.name} has {len(m.entries)} entries", where, plan=plan.name)
        for p in ctx.vms(plan):
            if ptype == "openstack" and p.vm.image_backed:
                yield _vm_diag("MTV060", p, plan, "boots from an image; only Cinder-volume VMs are supported")
            for disk in p.vm.disks:
                if not disk.datastore:
                    continue  # MTV070 reports it
                used.setdefault(m.name, set()).add(disk.datastore)
                if disk.datastore not in covered:
                    ds = ctx.lock.datastores.get(disk.datastore)
                    label = f"{ds.name!r} ({disk.datastore})" if ds else repr(disk.datastore)
                    yield _vm_diag("MTV031", p, plan, f"disk {disk.key} is on {PROVIDER_TYPES[ptype].storage_word} "
                                   f"{label}, which is not mapped", where=plan.where,
                                   help=f"add `- source: {ds.name if ds else disk.datastore}` with a storageClass "
                                   "to `storage:`")
    yield from _unused(ctx, "storage", used)


def _unused(ctx: Context, kind: str, used: dict[str, set]):
    for m in ctx.site.maps:
        if m.kind != kind or not any(p.network_map is m or p.storage_map is m for p in ctx.site.plans):
            continue
        for entry, ids in zip(m.entries, ctx.lock.maps.get(m.name, []), strict=True):
            if ids and ids != ["glance"] and not set(ids) & used.get(m.name, set()):
                yield Diagnostic("MTV035", f"{kind} mapping {entry.label!r} is used by no selected VM", entry.where)


# ------------------------------------------------------------ migration type

@check
def migration_type(ctx: Context):
    src = ctx.site.source
    ptype = PROVIDER_TYPES[src.type]
    for plan in ctx.site.plans:
        where = plan.option_where("type")
        if plan.type not in ptype.migration_types:
            yield Diagnostic("MTV040", f"plan '{plan.name}': {src.type} sources support "
                             f"{', '.join(ptype.migration_types)}, not {plan.type!r}", where, plan=plan.name)
            continue
        if plan.type == "warm" and src.type == "ovirt":
            yield Diagnostic("MTV045", f"plan '{plan.name}' is warm from oVirt", where, plan=plan.name)
        needs_vddk = plan.type == "warm" or plan.options.get("skipGuestConversion")
        if src.type == "vsphere" and needs_vddk and not src.vddk_image:
            yield Diagnostic("MTV044", f"plan '{plan.name}' is warm or skips guest conversion, and the source has "
                             "no vddkImage", where, plan=plan.name)
        if plan.type != "warm" or src.type != "vsphere":
            continue
        for p in ctx.vms(plan):
            if not p.vm.change_tracking:
                yield _vm_diag("MTV041", p, plan, "changed block tracking is off", where=plan.where)
            else:
                off = [d.key for d in p.vm.disks if not d.change_tracking]
                if off:
                    yield _vm_diag("MTV042", p, plan, f"disks without CBT: {', '.join(off)}", where=plan.where)
            if p.vm.has_snapshot:
                yield _vm_diag("MTV043", p, plan, "has snapshots", where=plan.where)


# ------------------------------------------------------------ hooks

@check
def hooks(ctx: Context):
    used = set()
    for plan in ctx.site.plans:
        for p in ctx.vms(plan):
            used.update(p.options.get(k) for k in ("preHook", "postHook"))
    for h in ctx.site.hooks.values():
        if h.name not in used:
            yield Diagnostic("MTV050", f"hook '{h.name}' is used by no VM", h.where)
        if h.playbook and not h.image:
            yield Diagnostic("MTV052", f"hook '{h.name}' has a playbook but no image", h.where)
        if h.playbook_error:
            yield Diagnostic("MTV006", f"hook '{h.name}': cannot read playbook {h.playbook}: {h.playbook_error}",
                             h.playbook_where)
        elif h.playbook:
            try:
                plays = yaml.safe_load(h.playbook_text)
            except yaml.YAMLError as exc:
                plays = exc
            if not (isinstance(plays, list) and plays and all(isinstance(x, dict) for x in plays)):
                yield Diagnostic("MTV051", f"hook '{h.name}': {h.playbook} is not a YAML list of plays", h.where)


# ------------------------------------------------------------ names

_TEMPLATE_VARS = {
    "pvcNameTemplate": {"VmName": "db01", "PlanName": "wave1", "DiskIndex": "0", "RootDiskIndex": "0",
                        "Shared": "false", "FileName": "disk-0", "WinDriveLetter": "c"},
    "volumeNameTemplate": {"PVCName": "db01-disk-0", "VolumeIndex": "0"},
    "networkNameTemplate": {"NetworkName": "app-net", "NetworkNamespace": "apps", "NetworkType": "Multus",
                            "NetworkIndex": "0"},
}


def _template_problem(key: str, template: str) -> str:
    variables = _TEMPLATE_VARS[key]
    unknown = sorted(set(re.findall(r"\.([A-Za-z]+)", " ".join(re.findall(r"{{(.*?)}}", template)))) - set(variables))
    if unknown:
        return f"uses unknown variable(s) {', '.join('.' + u for u in unknown)}; known: " + \
            ", ".join("." + v for v in variables)
    sample = re.sub(r"{{[^}]*?\.([A-Za-z]+)[^}]*}}", lambda m: variables[m.group(1)], template)
    if "{{" in sample or not names.is_label(sample):
        return f"gives {sample!r}, not a DNS-1123 label"
    return ""


@check
def names_and_templates(ctx: Context):
    site = ctx.site
    for plan in site.plans:
        plain = f"{site.name}-{plan.name}"
        if plan.object_name != plain:
            yield Diagnostic("MTV023", f"plan object name {plain!r} is longer than 63; it becomes {plan.object_name!r}",
                             plan.where, plan=plan.name)
        sa = plan.options.get("serviceAccount")
        if sa is not None and not names.is_label(sa):
            yield Diagnostic("MTV024", f"serviceAccount {sa!r} is not a valid name", plan.option_where("serviceAccount"),
                             plan=plan.name)
        for key in _TEMPLATE_VARS:
            sources = [(plan.vm_options.get(key), plan.option_where(key))]
            sources += [(o.options.get(key), o.where) for o in plan.overrides]
            for template, where in sources:
                problem = template and _template_problem(key, template)
                if problem:
                    yield Diagnostic("MTV025", f"{key} {template!r} {problem}", where, plan=plan.name)


# ------------------------------------------------------------ provider specifics

@check
def provider_rules(ctx: Context):
    site, src = ctx.site, ctx.site.source
    for label, creds, _type, _where in site.credential_blocks():
        if creds and creds.mode == "plaintextFromEnv" and not ctx.allow_plaintext:
            yield Diagnostic("MTV005", f"credentials.plaintextFromEnv writes the credentials into Git in plaintext "
                             f"({label})", creds.where, "use `externalSecret:`, or build with --allow-plaintext-secrets")
    for h in src.hosts:
        host = ctx.lock.hosts.get(ctx.lock.host_ids.get(h.name, ""))
        if host is None:
            continue
        if not h.ip and len(host.ip_addresses) != 1:
            found = ", ".join(host.ip_addresses) or "none"
            yield Diagnostic("MTV066", f"ESXi host {h.name!r} has {len(host.ip_addresses)} IP addresses ({found})",
                             h.where, "set ipAddress to the interface used for disk transfer")
        if host.in_maintenance:
            yield Diagnostic("MTV067", f"ESXi host {h.name!r} is in maintenance mode", h.where)
    for plan in site.plans:
        for p in ctx.vms(plan):
            if src.type == "openshift" and not p.vm.namespace:
                yield _vm_diag("MTV064", p, plan, "has no namespace")
            for d in p.vm.disks:
                if d.lun and d.lun_type.lower() in ("fcp", "fc"):
                    yield _vm_diag("MTV063", p, plan, f"disk {d.key} is a Fibre Channel LUN")
                elif d.lun:
                    yield _vm_diag("MTV062", p, plan, f"disk {d.key} is a direct LUN")


# ------------------------------------------------------------ VM concerns

_SUPPORTED_GUESTS = re.compile(
    r"^(rhel(7|8|9|10)(_64)?Guest|windows9(_64)?Guest|windows11(_64)?Guest|windows9Server64Guest"
    r"|windows2019srv(Next)?_64Guest|windows2022srvNext_64Guest)$")


@check
def concerns(ctx: Context):
    src = ctx.site.source.type
    for plan in ctx.site.plans:
        static_ips = plan.options.get("preserveStaticIPs", True)
        for p in ctx.vms(plan):
            vm = p.vm
            for d in vm.disks:
                if not d.datastore:
                    yield _vm_diag("MTV070", p, plan, f"disk {d.key} has no datastore")
                if d.capacity <= 0:
                    yield _vm_diag("MTV071", p, plan, f"disk {d.key} has capacity {d.capacity}")
            for category, label in vm.concerns:
                if category == "Critical":
                    yield _vm_diag("MTV073", p, plan, f"Forklift concern: {label}")
            if "VirtualPCIPassthrough" in vm.devices:
                yield _vm_diag("MTV072", p, plan, "has a PCI passthrough device")
            if any(d.shared for d in vm.disks):
                yield _vm_diag("MTV074", p, plan, "has a shared disk")
            if any(d.rdm for d in vm.disks):
                yield _vm_diag("MTV075", p, plan, "has an RDM disk")
            if any(d.mode.startswith("independent") for d in vm.disks):
                yield _vm_diag("MTV076", p, plan, "has an independent disk")
            if vm.cpu_hot_add or vm.cpu_hot_remove or vm.memory_hot_add:
                yield _vm_diag("MTV077", p, plan, "has CPU or memory hot plug enabled")
            if vm.tpm:
                yield _vm_diag("MTV078", p, plan, "has a TPM")
            if "VirtualUSBController" in vm.devices:
                yield _vm_diag("MTV079", p, plan, "has a USB controller")
            if "VirtualSriovEthernetCard" in vm.devices:
                yield _vm_diag("MTV080", p, plan, "has an SR-IOV NIC")
            if src != "vsphere":
                continue
            if vm.guest_id and not _SUPPORTED_GUESTS.match(vm.guest_id):
                yield _vm_diag("MTV081", p, plan, f"guest OS {vm.guest_id!r} is not supported for conversion")
            if static_ips and vm.power_state == "poweredOn" and not vm.ip_addresses:
                yield _vm_diag("MTV082", p, plan, "reports no guest IP address")
            if vm.power_state == "poweredOn" and vm.tools_status in ("toolsNotInstalled", "toolsNotRunning"):
                yield _vm_diag("MTV083", p, plan, f"VMware tools: {vm.tools_status}")


# ------------------------------------------------------------ the target cluster

@check
def target_cluster(ctx: Context):
    """Destination facts recorded in the lock; skipped when the lock was made
    without cluster access."""
    facts, site = ctx.lock.target, ctx.site
    if facts is None:
        return
    for ns, exists in sorted(facts.namespaces.items()):
        if not exists:
            plan = next(p for p in site.plans if p.target_namespace == ns)
            yield Diagnostic("MTV100", f"namespace {ns} does not exist on {facts.context}", plan.option_where(
                "targetNamespace"), plan=plan.name)
    classes = sorted(facts.storage_classes)
    for m in site.maps:
        if m.kind != "storage" or not any(p.storage_map is m for p in site.plans):
            continue
        for e in m.entries:
            if e.storage_class not in facts.storage_classes:
                yield Diagnostic("MTV101", f"StorageClass {e.storage_class!r} does not exist on {facts.context}",
                                 e.where, f"available: {', '.join(classes) or 'none'}")
            elif facts.storage_classes[e.storage_class] == "kubernetes.io/no-provisioner" and \
                    site.source.type != "vsphere" and any(p.type == "cold" for p in site.plans if p.storage_map is m):
                yield Diagnostic("MTV102", f"StorageClass {e.storage_class!r} has no provisioner", e.where)
    for plan in site.plans:
        for e, ns, name in plan.network_map.nads():
            if f"{ns}/{name}" not in facts.nads:
                yield Diagnostic("MTV103", f"NetworkAttachmentDefinition {ns}/{name} does not exist on {facts.context}",
                                 e.where, plan=plan.name)
        if plan.transfer_network:
            key = "/".join(plan.transfer_network)
            where = plan.option_where("transferNetwork")
            if key not in facts.nads:
                yield Diagnostic("MTV104", f"transfer network {key} does not exist on {facts.context}", where,
                                 plan=plan.name)
            elif not facts.nads[key]:
                yield Diagnostic("MTV105", f"transfer network {key} has no forklift.konveyor.io/route annotation",
                                 where, plan=plan.name)
        sa = plan.options.get("serviceAccount")
        if sa and f"{plan.target_namespace}/{sa}" not in facts.service_accounts:
            yield Diagnostic("MTV106", f"service account {plan.target_namespace}/{sa} does not exist",
                             plan.option_where("serviceAccount"), plan=plan.name)
        if plan.start is None and not plan.done:  # started plans create these VMs themselves
            existing = set(facts.vms.get(plan.target_namespace, []))
            for p in ctx.vms(plan):
                if p.target_name in existing:
                    yield _vm_diag("MTV108", p, plan, f"a VirtualMachine {plan.target_namespace}/{p.target_name} "
                                   "already exists")
    for h in site.hooks.values():
        if h.service_account and f"{site.mtv_namespace}/{h.service_account}" not in facts.service_accounts:
            yield Diagnostic("MTV106", f"hook service account {site.mtv_namespace}/{h.service_account} does not exist",
                             h.where)
    src = site.source
    have = facts.providers.get(src.name)
    if src.external and have is None:
        yield Diagnostic("MTV109", f"Provider {site.mtv_namespace}/{src.name} is marked external but does not exist",
                         src.where)
    elif not src.external and have is not None and (have["type"] != src.type or (have["url"] or "") != src.url):
        yield Diagnostic("MTV107", f"Provider {site.mtv_namespace}/{src.name} exists as {have['type']} "
                         f"{have['url'] or '(no url)'}; the site defines {src.type} {src.url}", src.where)
    dst = site.destination
    if dst.external and dst.name not in facts.providers:
        yield Diagnostic("MTV109", f"destination Provider {site.mtv_namespace}/{dst.name} does not exist", dst.where)


# ------------------------------------------------------------ start and cutover

def _parse_time(text: str) -> datetime | None:
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


@check
def start_and_cutover(ctx: Context):
    for plan in ctx.site.plans:
        start = plan.start
        if start is None:
            continue
        if plan.done:
            yield Diagnostic("MTV093", f"plan '{plan.name}' is marked done and has `start`", start.where,
                             plan=plan.name)
        times = ([(start.cutover, start.where)] if start.cutover else []) + \
            [(c, where) for _vm, c, where in start.vm_cutover]
        if times and plan.type != "warm":
            yield Diagnostic("MTV091", f"plan '{plan.name}' is {plan.type}; cutover applies to warm plans only",
                             times[0][1], plan=plan.name)
        if plan.type == "warm" and not start.cutover:
            yield Diagnostic("MTV092", f"warm plan '{plan.name}' starts without a cutover", start.where, plan=plan.name)
        for text, where in times:
            t = _parse_time(text)
            if t is None:
                yield Diagnostic("MTV094", f"cutover {text!r} is not an ISO 8601 time with an offset", where,
                                 plan=plan.name)
            elif t < ctx.now and not plan.done:
                yield Diagnostic("MTV090", f"cutover {text} is in the past", where, plan=plan.name)

