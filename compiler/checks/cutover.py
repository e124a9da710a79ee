"""Start and cutover times (catalog: start and cutover)."""

from __future__ import annotations

from datetime import datetime

from ..diagnostics import Diagnostic
from .context import Context


def parse_time(text: str) -> datetime | None:
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


def start_and_cutover(ctx: Context):
    for plan in ctx.site.plans:
        start = plan.start
        if start is None:
            continue
        times = ([(start.cutover, start.where)] if start.cutover else []) + \
            [(c, where) for _vm, c, where in start.vm_cutover]
        if times and plan.type != "warm":
            yield Diagnostic("MTV091", f"plan '{plan.name}' is {plan.type}; cutover applies to warm plans only",
                             times[0][1], plan=plan.name)
        if plan.type == "warm" and not start.cutover:
            yield Diagnostic("MTV092", f"warm plan '{plan.name}' starts without a cutover", start.where, plan=plan.name)
        pin = ctx.lock.started.get(plan.name)
        since = parse_time(pin.since) if pin is not None and pin.attempt == start.attempt else None
        for text, where in times:
            t = parse_time(text)
            if t is None:
                yield Diagnostic("MTV094", f"cutover {text!r} is not an ISO 8601 time with an offset", where,
                                 plan=plan.name)
            elif t < ctx.now and plan.type == "warm" and (since is None or t < since):
                # not yet pinned (a new start or attempt), or already past when it was: the
                # Migration would cut over (power the source off) right after its first copy
                yield Diagnostic("MTV095", f"cutover {text} of attempt {start.attempt} was already past when "
                                 f"{'the attempt was pinned' if since else 'the attempt starts'}", where,
                                 f"set a future cutover (`mtvgen retry {ctx.site.shown_dir} {plan.spec_name} --cutover TIME`)"
                                 f", or cut over at once with --cutover now", plan=plan.name)
            elif t < ctx.now:
                yield Diagnostic("MTV090", f"cutover {text} is in the past", where, plan=plan.name)
