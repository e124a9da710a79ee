"""A pull request in a reviewer's words: per site, what the change does (plans
added, started, retried, canceled, archived, retired; VMs added and removed;
cutovers moved), the plans with their VMs, disks and guest systems, new
warnings, and the schedule as a picture (timeline.py).

In: the site, its lock, its built documents and diagnostics, and the state of
the base (report/state.py). Out: a Summary whose Markdown GitHub and GitLab
both render, shortened to fit a comment when asked (report/shorten.py).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from .. import ledger, lifecycle
from ..diagnostics import INFO, Diagnostic
from ..lock import Lock
from ..plan_model import planned
from ..sitemodel import Site
from ..textsafe import markdown, printable
from . import privilege, timeline
from .shorten import Summary
from .state import PlanState


def when(text: str) -> str:
    """An ISO time as people read it: Sat 05 Dec 2026 22:00 +01:00."""
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return text
    offset = t.strftime("%z")
    return f"{t:%a %d %b %Y %H:%M} {offset[:3]}:{offset[3:]}" if offset else f"{t:%a %d %b %Y %H:%M}"


def _names(ids, vms: dict[str, str], limit: int = 8) -> str:
    shown = sorted(markdown(vms.get(i, i)) for i in ids)
    more = f" and {len(shown) - limit} more" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more


def changes(base: dict[str, PlanState], head: dict[str, PlanState], site: Site) -> list[tuple[str, str]]:
    """What the change does, plan by plan, in words: (plan, sentence)."""
    out = []
    spec_plans = {p.name: p for p in site.plans}
    for name in sorted(set(base) | set(head)):
        a, b = base.get(name), head.get(name)
        if a is None:
            out.append((name, f"plan `{name}`: new, {len(b.vms)} VMs, {b.type}"))
        elif b is None:
            retired = name in spec_plans and spec_plans[name].retired
            out.append((name, f"plan `{name}`: {'retired' if retired else 'removed'} (its objects stay on the cluster)"))
            if retired and spec_plans[name].options.get("archived") and not a.archived:
                out.append((name, f"plan `{name}`: ⚠ retired in the change that archives it: `archived: true` never "
                                  "reaches the cluster (merge and sync the archive first)"))
            continue
        else:
            added, gone = set(b.vms) - set(a.vms), set(a.vms) - set(b.vms)
            if added:
                out.append((name, f"plan `{name}`: +{len(added)} VMs ({_names(added, b.vms)})"))
            if gone:
                out.append((name, f"plan `{name}`: −{len(gone)} VMs ({_names(gone, a.vms)})"))
            if a.window != b.window and b.window:
                out.append((name, f"plan `{name}`: its run's window moves from {a.window or 'none'} to {b.window}"))
            if b.archived and not a.archived:
                out.append((name, f"plan `{name}`: archived (Forklift cleans up what it left)"))
            if spec_plans.get(name) is not None and spec_plans[name].done and a.attempt is not None \
                    and b.attempt is None:
                out.append((name, f"plan `{name}`: done (frozen in the lock)"))
        out += [(name, sentence) for sentence in _run_changes(name, a, b)]
    return out


def _run_changes(name: str, a: PlanState | None, b: PlanState) -> list[str]:
    out = []
    before = a.attempt if a is not None else None
    if b.attempt is not None and before is None:
        cut = f", cutover {when(b.cutover)}" if b.cutover else ""
        out.append(f"plan `{name}`: **started** (attempt {b.attempt}, {b.type}{cut})")
    elif b.attempt is not None and before is not None and b.attempt > before:
        out.append(f"plan `{name}`: **retry**, attempt {b.attempt} runs the VMs that did not succeed")
    if b.attempt is not None and before is not None and b.cutover != a.cutover:
        out.append(f"plan `{name}`: cutover moved from {when(a.cutover) or 'none'} to {when(b.cutover) or 'none'}")
    if b.attempt is not None:
        old = set(a.cancel) if a is not None else set()
        new = [v for v in b.cancel if v not in old]
        if new:
            out.append(f"plan `{name}`: **cancel** {', '.join(map(markdown, new))} (nothing is deleted)")
        held = [v for v in b.cancel if v in old]
        if held and a.attempt != b.attempt:      # a retry keeps what the operator held back
            out.append(f"plan `{name}`: {', '.join(map(markdown, held))} stay held back "
                       f"(canceled in attempt {a.attempt})")
        if b.resume and not (a is not None and a.resume and a.attempt == b.attempt):
            out.append(f"plan `{name}`: resume the guest conversion of the VMs whose disks were copied")
        for vm_name, t in sorted(b.vm_cutover.items()):
            was = a.vm_cutover.get(vm_name) if a is not None else None
            if was != t:
                out.append(f"plan `{name}`: cutover of {markdown(vm_name)} {'moved to' if was else 'at'} {when(t)}")
    return out


def _plan_rows(site: Site, lock: Lock, head: dict[str, PlanState]) -> list[str]:
    rows = ["| plan | wave | type | VMs | disks | guest OS | state |", "|---|---|---|---|---|---|---|"]
    for p in site.plans:
        vms = [lock.vms[i] for i in lock.plans.get(p.name, []) if i in lock.vms]
        gib = sum(d.capacity for v in vms for d in v.disks) / (1 << 30)
        oses = Counter(v.guest_id or v.guest_name or "unknown" for v in vms).most_common(3)
        state = "retired" if p.retired else "done" if p.done else "archived" if p.options.get("archived") else \
            f"started (attempt {p.start.attempt})" if p.start else "not started"
        if p.start and p.start.cutover and not p.done:
            state += f", cutover {when(p.start.cutover)}"
        rows.append(f"| `{p.name}` | {p.wave or '—'} | {p.type} | {len(vms)} | {gib:,.0f} GiB | "
                    f"{', '.join(f'{markdown(o)} ({n})' for o, n in oses) or '—'} | {state} |")
    return rows


def summary(site: Site, lock: Lock, head: dict[str, PlanState], base: dict[str, PlanState] | None,
            diags: list[Diagnostic], base_diags: list[Diagnostic] | None,
            documents: tuple[list[dict] | None, list[dict]] = (None, [])) -> Summary:
    delivery = "Argo CD" if site.delivery and site.delivery.argocd else "Flux" if site.delivery and \
        site.delivery.flux else "kubectl"
    out = Summary([f"## Site `{site.name}`", "", f"{site.source.type} → `{markdown(site.target_namespace)}`, "
                   f"delivered by {delivery}.{_ledger(site, lock)}", ""])
    base_docs, head_docs = documents
    if base_docs is not None:
        out.security = security(base_docs, head_docs)
    said = changes(base, head, site) if base is not None else []
    out.touched = {plan for plan, _ in said}
    if base is not None:
        out.changes = ["**What this change does**", ""] + ([f"- {c}" for _, c in said] or [
            "- nothing for the plans (specs, mappings or checks only)"]) + [""]
    known = {(d.code, d.message) for d in base_diags or []}
    warnings = [d for d in diags if d.level != INFO and not d.suppressed and (d.code, d.message) not in known]
    if warnings:
        title = "New warnings" if base_diags is not None else "Warnings"
        out.warnings = [f"**{title}**", ""] + [f"- `{d.code}` {markdown(d.message)} ({markdown(str(d.location))})" + (
            f" — **acknowledged** error: {markdown(d.acknowledged)}" if d.acknowledged else "") for d in warnings] + [""]
    out.plans = ["**Plans**", ""] + _plan_rows(site, lock, head) + [""]
    from .. import throughput
    picture = timeline.mermaid(site, throughput.waves(site, lock))
    if picture:
        out.schedule = ["**Schedule** (UTC)", "", picture, ""]
    for p in lifecycle.live(site):
        vms, _problems = planned(p, lock)
        block = [f"<details><summary>{p.name}: {len(vms)} VMs</summary>\n",
                 "| VM | target name | disks | guest OS |\n|---|---|---|---|"]
        block += [f"| {markdown(v.vm.name)} | {markdown(v.target_name)} | "
                  f"{sum(d.capacity for d in v.vm.disks) / (1 << 30):,.0f} GiB | {markdown(v.vm.guest_id) or '—'} |"
                  for v in vms]
        out.details[p.name] = block + ["\n</details>"]
    return out


def _ledger(site: Site, lock: Lock) -> str:
    """What has moved (sites/ledger.yaml), when the repository keeps a ledger."""
    if site.ledger is None or not site.ledger.entries:
        return ""
    return f" Ledger: {ledger.counts(site, lock).shown()}."


def security(base_docs: list[dict], head_docs: list[dict]) -> list[str]:
    """Every change to a privileged setting (report/privilege.py), first in the summary:
    a reviewer who reads only this section still sees each one. A playbook is shown as a
    diff of its decoded text."""
    found = privilege.changed(privilege.facts(base_docs), privilege.facts(head_docs))
    if not found:
        return []
    lines = ["**Security-relevant changes** (review each)", ""]
    for what, before, after in found:
        if what.endswith(": playbook") and (before or after):
            lines.append(f"- {markdown(what)} changed:")
            lines += ["", "  ```diff"] + [f"  {printable(x).replace('```', '`‵`')}"
                                          for x in privilege.playbook_diff(before, after)] + ["  ```"]
        else:
            lines.append(f"- {markdown(what)}: {_value(before)} → {_value(after)}")
    return lines + [""]


def _value(text: str) -> str:
    return f"`{printable(text).replace('`', 'ʼ')}`" if text else "_(none)_"
