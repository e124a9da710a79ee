"""Hooks and their playbooks (catalog: hooks)."""

from __future__ import annotations

import yaml

from ..diagnostics import Diagnostic
from .context import Context


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
