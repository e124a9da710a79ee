"""A plan's life: done plans stay as they ran, runs (cancel, batches) name what
exists, waves give runs a window (catalog: lifecycle). Unlike the other
sections these see done and retired plans too."""

from __future__ import annotations

import difflib

from ..diagnostics import Diagnostic
from ..lifecycle import (batch_number, batch_started, done_batches, frozen_matches, fully_done, members, run_settings, running,
                         spec_plan_of, window_end)
from ..plan_model import match_vms
from .context import Context
from .cutover import parse_time


def frozen_plans(ctx: Context):
    """A done plan (or done batch) must be what it was when the lock froze it."""
    lock = ctx.lock
    for p in ctx.site.spec_plans:
        batches = lock.batches.get(p.name, [])
        done = [p.name] if p.done else done_batches(p, batches)
        for name in done:
            frozen = lock.frozen.get(name)
            if frozen is None:
                yield Diagnostic("MTV124", f"plan '{name}' is marked done, but the lock does not freeze it yet",
                                 p.where, f"run `mtvgen done {ctx.site.shown_dir} {name}` (offline) or "
                                 f"`mtvgen lock {ctx.site.shown_dir}`",
                                 plan=name)
            elif not frozen_matches(frozen, p, members(lock, name)):
                yield Diagnostic("MTV093", f"plan '{name}' is done and was edited since (its spec, the defaults "
                                 "or mappings it inherits, or its VMs in the lock): Forklift never reconciles a "
                                 "Succeeded Plan again, so the edit would not reach its VMs", p.where, plan=name)
        if p.retired and not fully_done(p, batches):
            yield Diagnostic("MTV121", f"plan '{p.name}' is retired but not done", p.where,
                             "mark it done first (a running plan must not leave the output)", plan=p.name)


def running_plans(ctx: Context):
    """Guards of a run that has not ended (MTV126-128): what the lock pinned as running
    must stay in Git as long as Forklift runs it, and must not be archived mid-run."""
    site, lock = ctx.site, ctx.lock
    still = running(site, lock.batches)
    for name in lock.started:
        if name in still:
            continue
        plan = spec_plan_of(name, site.spec_plans)
        if plan is None:
            yield Diagnostic("MTV126", f"plan '{name}' is running (pinned in the lock) and is gone from site.yaml: "
                             "its Plan and Migration keep running with no owner in Git", site.plans_where,
                             f"put plan '{name}' back (a rename is a removal and a new plan); to end the run: "
                             f"`mtvgen cancel {site.shown_dir} {name} --all`, then `mtvgen done {site.shown_dir} {name}`",
                             plan=name)
        elif plan.start is None and not plan.done and not plan.retired:
            yield Diagnostic("MTV128", f"plan '{name}' is running (pinned in the lock) and has no `start:` any more: "
                             "the run goes on while Git no longer shows it", plan.where,
                             f"put `start:` back; to stop the run: `mtvgen cancel {site.shown_dir} {plan.name} --all`",
                             plan=name)
    for name, (plan, _attempt) in still.items():
        if plan.options.get("archived") and plan.start is not None:
            yield Diagnostic("MTV127", f"plan '{name}' is archived while its run has not ended (not done): Forklift "
                             "deletes the DataVolumes and PVCs of every VM not yet succeeded",
                             plan.option_where("archived"), f"cancel the run, mark it done "
                             f"(`mtvgen done {site.shown_dir} {plan.name}`), then archive it", plan=name)


def running_edits(ctx: Context):
    """An edit of what a run depends on (its Plan, maps, Providers) since the lock pinned
    it: up to 2.11 Forklift cancels the run for it (MTV130), later releases run on (MTV131)."""
    site, lock = ctx.site, ctx.lock
    profile = site.profile
    for name, (plan, attempt) in running(site, lock.batches).items():
        pin = lock.started.get(name)
        if pin is None or pin.attempt != attempt or not pin.settings:
            continue
        now = run_settings(site, plan)
        changed = [part for part, value in pin.settings.items() if now.get(part) != value]
        if not changed:
            continue
        what = ", ".join(changed)
        retry = f"`mtvgen retry {site.shown_dir} {name}`"
        if profile.cancels_on_edit:
            yield Diagnostic("MTV130", f"plan '{name}' is running and its {what} changed since attempt {attempt} "
                             f"started: {profile.shown} cancels the run when one of them changes (every VM not yet "
                             "migrated stops)", plan.where, f"undo the edit until the run ends, then {retry} to run "
                             "with it; or acknowledge MTV130 to cancel on purpose", plan=name)
        else:
            yield Diagnostic("MTV131", f"plan '{name}' is running and its {what} changed since attempt {attempt} "
                             f"started: {profile.shown} keeps the run going; the edit reaches only the steps still "
                             "to come", plan.where, f"{retry} after this run if every VM must see it", plan=name)


def batch_numbers(ctx: Context):
    for p in ctx.site.spec_plans:
        if p.batch_max is None:
            continue
        have = {batch_number(b) for b in ctx.lock.batches.get(p.name, [])}
        asked = [("start.batches", n) for n in (p.start.batches if p.start else ())]
        asked += [("done", n) for n in p.done_batches]
        for key, n in asked:
            if n not in have:
                yield Diagnostic("MTV125", f"plan '{p.name}' has no batch {n} ({key}); it has "
                                 f"{', '.join(str(h) for h in sorted(have)) or 'none'}", p.where, plan=p.name)
        names = set(ctx.lock.batches.get(p.name, []))
        for name, _, where in (p.start.attempts if p.start else ()):
            if name not in names:
                yield Diagnostic("MTV125", f"plan '{p.name}' has no batch '{name}' (start.attempts); it has "
                                 f"{', '.join(sorted(names)) or 'none'}", where, plan=p.name)
            elif not batch_started(p, batch_number(name)):
                yield Diagnostic("MTV125", f"batch '{name}' of plan '{p.name}' has an attempt but is not started "
                                 f"(start.batches: {', '.join(map(str, p.start.batches))})", where,
                                 f"add {batch_number(name)} to start.batches, or remove '{name}' from "
                                 "start.attempts", plan=p.name)


def cancels(ctx: Context):
    for plan in ctx.site.plans:
        if plan.start is None or plan.done:
            continue
        vms = [p.vm for p in ctx.vms(plan)]
        for text, where in plan.start.cancel:
            hits = match_vms(text, vms)
            if len(hits) != 1:
                yield Diagnostic("MTV016", f"cancel {text!r} matches {len(hits)} VMs of plan '{plan.name}'", where,
                                 "name one VM of the plan by name, id or path", plan=plan.name)


def waves(ctx: Context):
    site = ctx.site
    for w in site.waves.values():
        if parse_time(w.start) is None:
            yield Diagnostic("MTV094", f"wave {w.number} start {w.start!r} is not an ISO 8601 time with an offset",
                             w.where)
    for p in site.plans:
        w = site.waves.get(p.wave) if p.wave else None
        if w is None or p.start is None or p.done:
            continue
        end = window_end(w)
        if end is not None and end < ctx.now:
            yield Diagnostic("MTV122", f"plan '{p.name}' is started, and the window of wave {w.number} ended at "
                             f"{end.isoformat()}", p.start.where, plan=p.name)



def wave_estimates(ctx: Context):
    """Does each wave fit its window, at the declared rates (compiler/throughput.py)?"""
    from .. import throughput
    from ..lifecycle import duration_seconds
    site, model = ctx.site, ctx.site.throughput
    for number, (took, ends) in throughput.waves(site, ctx.lock).items():
        w = site.waves[number]
        window = duration_seconds(w.duration)
        if took > window:
            late = [name for name, end in sorted(ends, key=lambda x: -x[1]) if end > window]
            shown = ", ".join(late[:5]) + (f" and {len(late) - 5} more" if len(late) > 5 else "")
            plan = next(p.name for p in site.plans if p.wave == number and not p.done)
            yield Diagnostic("MTV170", f"wave {number} is estimated at {throughput.hours(took)} for {len(ends)} VMs "
                             f"({model.shown(site.source.type)}, in plan order), longer than its {w.duration} window; ending "
                             f"after it: {shown}", w.where, plan=plan)
    if model is None or ctx.lock is None:
        return
    for key, named, known in (("hosts", model.hosts, ctx.lock.hosts), ("datastores", model.datastores,
                                                                        ctx.lock.datastores)):
        names = sorted({x.name for x in known.values()})
        for name in sorted(set(named) - set(names)):
            near = difflib.get_close_matches(name, names, n=1)
            yield Diagnostic("MTV171", f"throughput.{key} names '{name}', which no locked VM uses: its limit "
                             "counts for nothing", model.where,
                             f"did you mean '{near[0]}'?" if near else f"the locked {key}: {', '.join(names) or 'none'}")
