"""The target cluster's facts recorded in the lock (catalog: the target cluster)."""

from __future__ import annotations

from .. import quantity
from ..diagnostics import Diagnostic
from .context import Context, vm_diag


def target_cluster(ctx: Context):
    """Destination facts recorded in the lock; skipped when the lock was made
    without cluster access."""
    facts, site = ctx.lock.target, ctx.site
    if facts is None:
        return
    # kept by a lock made without cluster access: still checked, and said to be old
    on = f"{facts.context} (as an earlier lock recorded it)" if facts.stale else facts.context
    for ns, exists in sorted(facts.namespaces.items()):
        if not exists:
            plan = next(p for p in site.plans if p.target_namespace == ns)
            yield Diagnostic("MTV100", f"namespace {ns} does not exist on {on}", plan.option_where(
                "targetNamespace"), plan=plan.name)
    classes = sorted(facts.storage_classes)
    for m in site.maps:
        if m.kind != "storage" or not any(p.storage_map is m for p in site.plans):
            continue
        for e in m.entries:
            if e.storage_class not in facts.storage_classes:
                yield Diagnostic("MTV101", f"StorageClass {e.storage_class!r} does not exist on {on}",
                                 e.where, f"available: {', '.join(classes) or 'none'}")
            elif facts.storage_classes[e.storage_class] == "kubernetes.io/no-provisioner" and \
                    site.source.type != "vsphere" and any(p.type == "cold" for p in site.plans if p.storage_map is m):
                yield Diagnostic("MTV102", f"StorageClass {e.storage_class!r} has no provisioner", e.where)
    # one finding per mapping entry, naming every plan that uses it (a batched plan's five
    # batches share their map: five identical lines said less than one)
    missing: dict[tuple, list[str]] = {}
    for plan in site.plans:
        for e, ns, name in plan.network_map.nads():
            if f"{ns}/{name}" not in facts.nads:
                missing.setdefault((e.where, ns, name), []).append(plan.name)
    for (where, ns, name), users in missing.items():
        there = sorted(k.split("/", 1)[1] for k in facts.nads if k.split("/", 1)[0] == ns)
        yield Diagnostic("MTV103", f"NetworkAttachmentDefinition {ns}/{name} does not exist on {on} (used by "
                         f"{_plans(users)})", where, f"NADs in {ns}: {', '.join(there)}" if there else
                         f"{ns} has no NAD: create {name} there, or map to another", plan=users[0])
    for plan in site.plans:
        if plan.transfer_network:
            key = "/".join(plan.transfer_network)
            where = plan.option_where("transferNetwork")
            if key not in facts.nads:
                yield Diagnostic("MTV104", f"transfer network {key} does not exist on {on}", where,
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
                    yield vm_diag("MTV108", p, plan, f"a VirtualMachine {plan.target_namespace}/{p.target_name} "
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


def _plans(names: list[str]) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:5])
    return f"plan {shown}" if len(names) == 1 else f"plans {shown}" + (f" and {len(names) - 5} more"
                                                                         if len(names) > 5 else "")


def quotas(ctx: Context):
    """Capacity before the merge: the disks each wave's plans will request in a target
    namespace, against its ResourceQuotas as the lock recorded them. Waves run in order
    and their disks stay, so a wave must fit with the waves before it; what already ran is
    in the quota's `used`. Disk capacity is what a PVC requests at least (CDI adds
    filesystem overhead on Filesystem volumes), so a wave reported to fit may still not."""
    facts, site = ctx.lock.target, ctx.site
    if facts is None or not facts.quotas:
        return
    order = sorted({p.wave for p in site.plans if p.wave is not None}) + [None]
    for ns, quotas in sorted(facts.quotas.items()):
        need: dict[str, float] = {}
        for wave in order:
            plans = [p for p in site.plans if p.target_namespace == ns and p.wave == wave and not p.done]
            if not plans:
                continue
            for plan in plans:
                for resource, amount in _requests(ctx, plan).items():
                    need[resource] = need.get(resource, 0) + amount
            for q in quotas:
                for resource, hard in q["hard"].items():
                    if resource not in need:
                        continue
                    left = quantity.parse(hard) - quantity.parse(q["used"].get(resource, "0"))
                    if need[resource] > left:
                        where = site.waves[wave].where if wave is not None and wave in site.waves else plans[0].where
                        what = f"wave {wave}" if wave is not None else "the plans without a wave"
                        yield Diagnostic("MTV114", f"{what} needs {_shown(resource, need[resource])} of {resource} in "
                                         f"namespace {ns} (with the waves before it); ResourceQuota {q['name']} leaves "
                                         f"{_shown(resource, left)} (hard {hard}, used {q['used'].get(resource, '0')})",
                                         where, plan=plans[0].name)


def _requests(ctx: Context, plan) -> dict[str, float]:
    """What a plan's VMs' disks will request, by quota resource name."""
    out: dict[str, float] = {}
    ids = ctx.lock.maps.get(plan.storage_map.name, [])
    klass = {ds: e.storage_class for e, resolved in zip(plan.storage_map.entries, ids) for ds in resolved}
    for p in ctx.vms(plan):
        for d in p.vm.disks:
            cls = klass.get(d.datastore, "")
            for resource, amount in (("requests.storage", d.capacity), ("persistentvolumeclaims", 1)):
                out[resource] = out.get(resource, 0) + amount
                if cls:
                    key = f"{cls}.storageclass.storage.k8s.io/{resource}"
                    out[key] = out.get(key, 0) + amount
    return out


def _shown(resource: str, amount) -> str:
    if resource.endswith("persistentvolumeclaims"):
        return f"{int(amount):,} PVCs"
    return f"{float(amount) / 2**30:,.0f} GiB"
