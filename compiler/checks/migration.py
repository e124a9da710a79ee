"""Migration type, warm-migration prerequisites and the Plan webhook's source rules
(catalog: migration type)."""

from __future__ import annotations

from ..diagnostics import Diagnostic
from ..tables import PROVIDER_TYPES
from .context import Context, vm_diag


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
                yield vm_diag("MTV041", p, plan, "changed block tracking is off", where=plan.where)
            else:
                off = [d.key for d in p.vm.disks if not d.change_tracking]
                if off:
                    yield vm_diag("MTV042", p, plan, f"disks without CBT: {', '.join(off)}", where=plan.where)
            if p.vm.has_snapshot:
                yield vm_diag("MTV043", p, plan, "has snapshots", where=plan.where)


# kubev2v/forklift pkg/forklift-api/webhooks/validating-webhook/admitters/plan-admitter.go
# (validateLUKS): a Plan with any vms[].luks is refused unless the source is one of these.
LUKS_SOURCES = ("vsphere", "ova")


def plan_admission(ctx: Context):
    src = ctx.site.source
    for plan in ctx.site.plans:
        if src.type not in LUKS_SOURCES:
            for p in ctx.vms(plan):
                if p.options.get("luksSecret"):
                    yield vm_diag("MTV046", p, plan, f"luksSecret on a {src.type} source: the Plan webhook "
                                  "refuses encrypted disks from any source but vSphere and OVA",
                                  where=p.where)
        scsi, rdm = plan.options.get("scsiReservation"), plan.options.get("rdmAsLun")
        if scsi and not rdm:
            yield Diagnostic("MTV047", f"plan '{plan.name}' sets scsiReservation without rdmAsLun, where it has "
                             "no effect", plan.option_where("scsiReservation"), plan=plan.name)
