"""The schedule of a site as a Mermaid gantt chart (GitHub and GitLab draw
Mermaid blocks): one bar per wave window with the plans in it, and a
milestone per cutover, so a change board sees the schedule at a glance.

In: the site. Out: a ```mermaid block, or "" when nothing is scheduled.
Times are UTC: Mermaid's dateFormat has no time zone.
"""

from __future__ import annotations

from datetime import datetime, timezone

from .. import lifecycle
from ..sitemodel import Site


def _utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M")


def _label(text: str) -> str:
    return text.replace(":", " ").replace("#", " ").replace(";", " ")   # Mermaid's separators


def mermaid(site: Site, estimates: dict | None = None) -> str:
    """`estimates`: wave -> (seconds, ...) at the declared throughput: drawn under the window,
    marked `crit` (red) when longer than it."""
    rows = []
    for number, wave in sorted(site.waves.items()):
        start = lifecycle.window_start(wave)
        if start is None:
            continue
        plans = [p.name for p in lifecycle.live(site) if p.wave == number]
        rows.append(f"    section wave {number}")
        title = _label(", ".join(plans) or "no plan")
        window = lifecycle.duration_seconds(wave.duration)
        rows.append(f"    {title} :w{number}, {_utc(start)}, {window // 60}m")
        if estimates and number in estimates:
            took = estimates[number][0]
            over = "crit, " if took > window else ""
            rows.append(f"    estimate{' (overrun)' if over else ''} :{over}e{number}, {_utc(start)}, "
                        f"{max(1, round(took / 60))}m")
    cutovers = []
    for p in lifecycle.live(site):
        if p.start is None or p.done:
            continue
        for label, text in [(p.name, p.start.cutover)] + [(f"{p.name} {vm}", t) for vm, t, _w in p.start.vm_cutover]:
            try:
                t = datetime.fromisoformat(text) if text else None
            except ValueError:
                t = None
            if t is not None and t.tzinfo is not None:
                cutovers.append(f"    {_label(label)} cutover :milestone, {_utc(t)}, 0m")
    if cutovers:
        rows += ["    section cutovers"] + cutovers
    if not rows:
        return ""
    head = ["```mermaid", "gantt", f"    title {site.name}: waves and cutovers (UTC)", "    dateFormat YYYY-MM-DDTHH:mm",
            "    axisFormat %a %d %b"]
    return "\n".join(head + rows + ["```"])
