"""Hooks and their playbooks (catalog: hooks)."""

from __future__ import annotations

from .. import yamlio
from ..diagnostics import Diagnostic
from ..errors import MtvgenError
from .context import Context

# A Hook carries its playbook base64 (4/3 the size); etcd stores at most 1.5 MiB an object
# by default and the API server takes 3 MB a request. 512 KiB keeps a Hook under 700 KiB.
MAX_PLAYBOOK_BYTES = 512 * 1024


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
        elif len(h.playbook_text) > MAX_PLAYBOOK_BYTES:
            yield Diagnostic("MTV053", f"hook '{h.name}': {h.playbook} is {len(h.playbook_text):,} bytes; a Hook "
                             f"holds it base64-encoded, and over {MAX_PLAYBOOK_BYTES:,} bytes the Hook outgrows what "
                             "the API server and etcd store in one object", h.playbook_where,
                             "move the work into the hook image and keep the playbook short")
        elif h.playbook:
            try:   # with the spec's bounds: depth 50, 1,000,000 values (a nested playbook was a RecursionError)
                plays = yamlio.load_fast(h.playbook_text.decode("utf-8"), h.playbook)
            except (UnicodeDecodeError, MtvgenError) as exc:
                plays = exc
            if not (isinstance(plays, list) and plays and all(isinstance(x, dict) for x in plays)):
                why = f" ({plays.what})" if isinstance(plays, MtvgenError) else ""
                yield Diagnostic("MTV051", f"hook '{h.name}': {h.playbook} is not a YAML list of plays{why}", h.where)
