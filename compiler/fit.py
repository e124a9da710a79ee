"""`mtvgen fit`: which wave each batch runs in, so that every wave fits its window at the
site's rates (compiler/throughput.py).

In: a loaded site, its lock, the time now and optionally one wave. Out: a Proposal: the
batches that move (batch -> wave), each wave's estimate before and after, and what fits
no window with what would. Pure: edit.place_batches writes the proposal into site.yaml.

The rules, in the order they bind:
- What is settled stays: a plan that is not batched, a batch that has started or is
  done, and a batch that `batch.waves` already places (a reviewed proposal, or a
  person's choice). A batch keeps its VMs: fit moves whole batches, never VMs.
- A batch moves only to its plan's wave or a later one whose window has not ended.
- First fit, in site order: each open batch goes to the first of those waves that still
  fits its window with it. The estimate counts the per-host and per-datastore limits,
  so batches heavy on one host or datastore spread over the waves.
- Deterministic: the same site, lock and time give the same proposal.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from . import lifecycle, throughput
from .diagnostics import Diagnostic
from .errors import UsageError


class Proposal(msgspec.Struct, frozen=True):
    moves: dict[str, int]                          # batch -> the wave it now runs in
    parents: dict[str, str]                        # batch -> its spec plan
    before: dict[int, float]                       # wave -> estimate (seconds), as the spec stands
    after: dict[int, float]                        # wave -> estimate with the moves
    windows: dict[int, float]                      # wave -> window (seconds)
    unfit: list[Diagnostic]                        # what fits no window (MTV170), each with what would
    model: str = ""                                # the rates it estimated at, in words


def propose(site, lock, now: datetime, only_wave: int | None = None) -> Proposal:
    if site.throughput is None:
        raise UsageError(f"{site.file} declares no `throughput:`: fit needs rates to estimate the waves",
                         where=site.plans_where, fix="declare `throughput: {perVM: 150MiB/s, total: 1.2GiB/s}` "
                         "(or record measured runs with `mtvgen status --record`)")
    if not site.waves:
        raise UsageError(f"{site.file} declares no `waves:`: there are no windows to fit", where=site.plans_where,
                         fix="add `waves:` with a start and a duration each, and `wave: N` on the plans")
    expanded = lifecycle.expand(site, lock)
    windows = {n: float(lifecycle.duration_seconds(w.duration)) for n, w in site.waves.items()}
    open_waves = sorted(n for n, w in site.waves.items()
                        if (lifecycle.window_end(w) is None or lifecycle.window_end(w) > now))
    # a plan in a wave `waves:` does not define is MTV120's to report, not fit's to place
    jobs = {p.name: throughput.jobs(site, lock, p) for p in expanded.plans if not p.done and p.wave in site.waves}
    spec_plans = {p.name: p for p in site.spec_plans}
    movable = [p for p in expanded.plans if p.name in jobs and _movable(spec_plans[p.spec_name], p, only_wave)]
    moving = {p.name for p in movable}
    placed: dict[int, list] = {n: [] for n in site.waves}
    for p in expanded.plans:
        if p.name in jobs and p.name not in moving:
            placed[p.wave] += jobs[p.name]
    before = {n: took for n, (took, _ends) in throughput.waves(expanded, lock).items()}
    moves, unfit, stuck = {}, [], set()
    for p in movable:
        home = next((n for n in open_waves if n >= p.wave
                     and throughput.estimate(placed[n] + jobs[p.name], site.throughput)[0] <= windows[n]), None)
        if home is None:
            unfit.append(_why_not(site, spec_plans[p.spec_name], p, jobs[p.name], windows, open_waves))
            home = p.wave
            stuck.add(home)
        placed[home] += jobs[p.name]
        if home != p.wave:
            moves[p.name] = home
    after = _estimates(site, placed)
    for n, took in after.items():      # still over, and no open batch to blame: what is settled there
        if took <= windows[n] or n in stuck or only_wave not in (None, n):
            continue
        whole = [p for p in expanded.plans if p.wave == n and p.name in jobs and p.batch == 0 and p.start is None]
        unfit += [_why_not(site, spec_plans[p.spec_name], p, jobs[p.name], windows, open_waves) for p in whole] or [
            Diagnostic("MTV170", f"wave {n} is estimated at {throughput.hours(took)}, longer than its "
                       f"{site.waves[n].duration} window, with what is settled in it (started batches, `batch.waves`)",
                       site.waves[n].where, "lengthen the window, or take entries out of `batch.waves` so fit may "
                       "move those batches")]
    return Proposal(moves, {p.name: p.spec_name for p in movable}, before, after, windows, unfit,
                    site.throughput.shown(site.source.type))


def _movable(spec_plan, batch, only_wave: int | None) -> bool:
    """An open batch whose wave no one has chosen yet (in the wave asked about)."""
    return (batch.batch > 0 and batch.start is None and not batch.done
            and all(name != batch.name for name, _n, _w in spec_plan.batch_waves)
            and only_wave in (None, batch.wave))


def _estimates(site, by_wave: dict[int, list]) -> dict[int, float]:
    return {n: throughput.estimate(jobs, site.throughput)[0] for n, jobs in sorted(by_wave.items()) if jobs}


def _why_not(site, spec_plan, plan, jobs: list, windows: dict[int, float], open_waves: list[int]) -> Diagnostic:
    """What to do about a plan or batch that fits no open window, at the plan's entry: the
    most of its VMs (in plan order) that one window holds is the `maxVMs` that would."""
    longest = max((windows[n] for n in open_waves if n >= (plan.wave or 0)), default=0.0)
    fits = _most_that_fit(jobs, site.throughput, longest)
    what = f"batch {plan.name}" if plan.batch else f"plan {plan.name}"
    alone = throughput.hours(throughput.estimate(jobs, site.throughput)[0])
    if fits >= len(jobs):
        move = "batch it (`batch: {maxVMs: N}`) so fit may move batches, give it a later `wave:`, " \
            if not plan.batch else ""
        return Diagnostic("MTV170", f"{what} ({len(jobs)} VMs, {alone} alone) fits no open window beside what is "
                          "there", spec_plan.where, f"{move}add a wave to `waves:`, or lengthen one", plan=plan.name)
    fix = f"split it: `batch: {{maxVMs: {fits}}}` on plan {spec_plan.name}, then `mtvgen lock` and `mtvgen fit`" \
        if fits else "no window holds even its first VM: lengthen the window or raise the rates"
    return Diagnostic("MTV170", f"{what} ({len(jobs)} VMs, {alone} alone) is longer than any open window",
                      spec_plan.where, fix, plan=plan.name)


def _most_that_fit(jobs: list, model, window: float) -> int:
    """The most VMs from the front of `jobs` that end inside `window` (the estimate grows
    with every VM added, so a binary search finds it)."""
    low, high = 0, len(jobs)
    while low < high:
        mid = (low + high + 1) // 2
        if throughput.estimate(jobs[:mid], model)[0] <= window:
            low = mid
        else:
            high = mid - 1
    return low
