"""Selection and naming per plan: overrides that match nothing, a VM in two plans,
Forklift's VM renaming, target name collisions (catalog: selection, names)."""

from __future__ import annotations

from .. import names, resolve
from ..diagnostics import PLAN_VMS_TESTED, Diagnostic
from ..plan_model import match_vms
from ..textsafe import printable
from .context import Context, vm_diag


def overrides(ctx: Context):
    for plan in ctx.site.plans:
        planned_vms, problems = ctx.planned(plan)
        yield from problems
        vms = [p.vm for p in planned_vms]
        for vm, _cut, where in plan.start.vm_cutover if plan.start else ():
            hits = len(match_vms(vm, vms))
            if hits != 1:
                yield Diagnostic("MTV016", f"vmCutover vm {vm!r} matches {hits} VMs of the plan", where, plan=plan.name)


def plans_and_target_names(ctx: Context):
    owner, targets = {}, {}
    for plan in ctx.site.plans:
        if not ctx.lock.plans.get(plan.name):
            yield Diagnostic("MTV015", f"plan '{plan.name}' has no VM in the lock", plan.where, plan=plan.name)
        for p in ctx.vms(plan):
            if not names.yaml_printable(p.vm.name):
                yield vm_diag("MTV085", p, plan, "the name holds a control character that no Kubernetes tool writes "
                              f"({printable(p.vm.name)!r}): the Plan names the VM by id only", where=plan.where)
            if p.vm.id in owner and owner[p.vm.id] != plan.name:
                yield vm_diag("MTV014", p, plan, f"is also in plan '{owner[p.vm.id]}'", where=plan.where)
            owner.setdefault(p.vm.id, plan.name)
            if p.explicit_target and not (names.is_subdomain(p.target_name) and len(p.target_name) <= 63):
                yield vm_diag("MTV021", p, plan, f"targetName {p.target_name!r} is not a DNS-1123 subdomain "
                               "of at most 63 characters",
                               help=f"for example {names.target_vm_name(p.target_name, p.vm.id)!r}")
                continue
            if not p.explicit_target and p.target_name != p.vm.name:
                yield vm_diag("MTV022", p, plan, f"will be created as {p.target_name!r}")
            key = (plan.target_namespace, p.target_name)
            if key in targets and targets[key][0].vm.id != p.vm.id:
                other, other_plan = targets[key]
                yield vm_diag("MTV020", p, plan, f"becomes {p.target_name!r} in namespace {plan.target_namespace}, "
                               f"as VM {other.vm.name!r} ({other.vm.id}) of plan '{other_plan}' does",
                               help="set a distinct targetName in `vms:` for one of them")
            targets.setdefault(key, (p, plan.name))


def plan_size(ctx: Context):
    for plan in ctx.site.plans:
        n = len(ctx.lock.plans.get(plan.name, ()))
        if n > PLAN_VMS_TESTED:
            yield Diagnostic("MTV019", f"plan '{plan.name}' holds {n} VMs", plan.where, plan=plan.name)


def lock_selection(ctx: Context):
    """The lock is verified, not trusted: each VM it lists for a plan must be one the
    spec's selectors choose under the lock's own recorded facts (a hand edit or a bad
    merge could add any VM id to a Plan). Done and running plans are exempt: their
    members are what they were when they were frozen or pinned."""
    site, lock = ctx.site, ctx.lock
    inv = lock.inventory()
    kept = set(lock.frozen) | set(lock.started)
    frozen = {p.name: [] for p in site.spec_plans if p.name in lock.frozen}
    chosen = resolve.resolve(site, inv, frozen, {n: lock.plans.get(n, []) for n in lock.started}).plans
    for p in site.spec_plans:
        names_ = lock.batches.get(p.name) or [p.name]
        listed = [(n, vm) for n in names_ if n not in kept for vm in lock.plans.get(n, [])]
        allowed = set(chosen.get(p.name, []))
        for name, vm_id in listed:
            if vm_id not in allowed:
                vm = lock.vms.get(vm_id)
                yield Diagnostic("MTV009", f"the lock lists VM {vm.name if vm else vm_id!r} ({vm_id}) in plan "
                                 f"'{name}', and no selector of the plan chooses it", p.where,
                                 f"re-run `mtvgen lock {site.shown_dir}` (a hand edit or a bad merge of the lock?)",
                                 plan=name, vm=vm_id)


def moved(ctx: Context):
    """A plan that has not run holding a VM the ledger says moved (a lock made before the
    ledger recorded it, or merged past it): it would migrate the VM a second time."""
    ledger = ctx.site.ledger
    if ledger is None or not ledger.entries:
        return
    for plan in ctx.site.plans:
        again = {v.id for text, _ in plan.remigrate for v in match_vms(text, [p.vm for p in ctx.vms(plan)])}
        for p in ctx.vms(plan):
            entry = ledger.moved(ctx.lock.provider, p.vm.id)
            if entry is not None and p.vm.id not in again and entry.plan != f"{ctx.site.name}/{plan.name}":
                yield vm_diag("MTV153", p, plan, f"has already moved: plan {entry.plan} migrated it to "
                              f"{entry.namespace}/{entry.target} on {entry.date} ({entry.migration})",
                              help="re-lock (a pattern selector skips it), or list it under `remigrate:`",
                              where=plan.where)
