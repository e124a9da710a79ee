"""What a site's output says about its plans, in the terms a reviewer uses:
which VMs, warm or cold, which attempt is started, its cutover and cancels,
archived or not. Read from the built documents, so the base of a comparison
can be any committed out/ tree (a directory, or a git ref's).

In: documents (dicts) of one site. Out: {plan: PlanState}.
"""

from __future__ import annotations

from pathlib import Path

import yaml

import msgspec

from .. import yamlio
from ..errors import Location, MtvgenError
from ..delivery.argocd import app_name
from ..tables import PLAN_LABEL, SITE_LABEL


class PlanState(msgspec.Struct):
    plan: str
    vms: dict[str, str] = msgspec.field(default_factory=dict)          # id -> name
    type: str = "cold"
    archived: bool = False
    attempt: int | None = None                                 # the started attempt (its Migration)
    cutover: str = ""
    vm_cutover: dict[str, str] = msgspec.field(default_factory=dict)   # VM name -> time
    cancel: list[str] = msgspec.field(default_factory=list)            # VM names
    resume: bool = False
    window: str = ""                     # the Argo CD sync window its run may start in (from its wave)


def from_documents(docs: list[dict]) -> dict[str, PlanState]:
    plans: dict[str, PlanState] = {}
    names: dict[str, str] = {}
    for d in docs:
        if d.get("kind") == "Plan":
            label = ((d.get("metadata") or {}).get("labels") or {}).get(PLAN_LABEL, d["metadata"]["name"])
            spec = d.get("spec") or {}
            st = plans.setdefault(label, PlanState(label))
            st.vms = {v.get("id", ""): v.get("name", "") for v in spec.get("vms") or []}
            st.type, st.archived = spec.get("type", "cold"), bool(spec.get("archived"))
            names.update(st.vms)
    # a plan's run Application (it exists once the plan starts; its window is set before)
    apps = {app_name(labels.get(SITE_LABEL, ""), f"run-{labels[PLAN_LABEL]}"): labels[PLAN_LABEL]
            for d in docs if d.get("kind") == "Plan"
            for labels in [(d.get("metadata") or {}).get("labels") or {}] if PLAN_LABEL in labels}
    for d in docs:
        if d.get("kind") == "AppProject":
            for w in (d.get("spec") or {}).get("syncWindows") or []:
                for app in w.get("applications") or []:
                    if apps.get(app) in plans:
                        plans[apps[app]].window = _window(w)
    for d in docs:
        if d.get("kind") == "Migration":
            label = ((d.get("metadata") or {}).get("labels") or {}).get(PLAN_LABEL, "")
            spec = d.get("spec") or {}
            st = plans.setdefault(label, PlanState(label))
            st.attempt = int(d["metadata"]["name"].rsplit("-", 1)[1])
            st.cutover = spec.get("cutover", "")
            st.vm_cutover = {names.get(c["id"], c["id"]): c["cutover"] for c in spec.get("vmCutover") or []}
            st.cancel = [c.get("name") or names.get(c.get("id", ""), c.get("id", "")) for c in spec.get("cancel") or []]
            st.resume = bool(spec.get("resumeConversion"))
    return plans


_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _window(w: dict) -> str:
    """A sync window as people read it: `0 20 19 12 *` for 8h -> `19 Dec 20:00 UTC for 8h`
    (the form delivery/argocd.py writes a wave in); any other schedule as written."""
    parts = str(w.get("schedule", "")).split()
    zone, length = w.get("timeZone") or "UTC", w.get("duration", "")
    if len(parts) == 5 and parts[4] == "*" and all(x.isdigit() for x in parts[:4]) and 1 <= int(parts[3]) <= 12:
        minute, hour, day, month = (int(x) for x in parts[:4])
        return f"{day} {_MONTHS[month - 1]} {hour:02d}:{minute:02d} {zone} for {length}"
    return f"`{w.get('schedule', '')}` {zone} for {length}"


def from_tree(site_out: Path) -> dict[str, PlanState]:
    """The plans of a committed out/<site>/ directory ({} when there is none)."""
    docs = documents_of_tree(site_out)
    try:
        return from_documents(docs)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise MtvgenError(f"a Plan or Migration in the base is not the shape mtvgen writes ({type(exc).__name__}: "
                          f"{exc})", where=Location(str(site_out)),
                          fix="rebuild the base with `mtvgen build`, or compare with another --base") from None


def documents_of_tree(site_out: Path) -> list[dict]:
    """The documents of a committed out/<site>/ directory. The base of a comparison may
    hold anything (a hand edit, a merge conflict): what cannot be read is an error naming
    the file, not a crash."""
    docs = []
    if site_out.is_dir():
        for path in sorted(site_out.rglob("*.yaml")):
            if path.name == "kustomization.yaml":
                continue
            try:
                doc = yamlio.load_plain(path.read_text(encoding="utf-8"))   # our own output, normally
            except (yaml.YAMLError, UnicodeDecodeError) as exc:
                raise MtvgenError(f"the base's {path.name} cannot be read ({type(exc).__name__})",
                                  where=Location(str(path)), fix="fix the base tree, or compare with another --base") from None
            if isinstance(doc, dict):
                docs.append(doc)
    return docs
