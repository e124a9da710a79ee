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
from ..tables import PLAN_LABEL


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
