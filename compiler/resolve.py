"""Stage 3: resolve a site's names against an inventory. Pure: no network.

Selectors pick VMs, mapping entries and ESXi hosts resolve to ids. Problems are
Diagnostics at the spec line of the selector or entry; `mtvgen lock` refuses to
write a lock while any of them is an error.
"""

from __future__ import annotations

import difflib
from fnmatch import fnmatchcase

import re2

import msgspec

from . import lifecycle, selection
from .diagnostics import Diagnostic
from .inventory.model import VM, Inventory
from .plan_model import match_vms
from .sitemodel import MapEntry, Selector, Site


class Resolution(msgspec.Struct):
    plans: dict[str, list[str]] = msgspec.field(default_factory=dict)        # plan -> VM ids
    maps: dict[str, list[list[str]]] = msgspec.field(default_factory=dict)   # map name -> ids per entry
    hosts: dict[str, str] = msgspec.field(default_factory=dict)              # host name -> id
    frozen: set[str] = msgspec.field(default_factory=set)                    # done plans taken from the previous lock
    diagnostics: list[Diagnostic] = msgspec.field(default_factory=list)
    moved: dict[str, list[str]] = msgspec.field(default_factory=dict)        # plan -> VMs skipped: the ledger has them


def _closest(word: str, candidates) -> str:
    near = difflib.get_close_matches(word, sorted(set(candidates)), n=3, cutoff=0.6)
    return f"closest: {', '.join(repr(n) for n in near)}" if near else "no similar name exists"


# RE2 matches in time linear in the name's length: a `regex:` such as (a+)+$ cannot hang a
# lock (Python's backtracking `re` takes exponential time on it). No backreferences or
# lookarounds, which selectors do not need.
_RE2 = re2.Options()
_RE2.log_errors = False   # errors come back as exceptions, not as lines on stderr


class _Matcher:
    def __init__(self, inv: Inventory):
        self.inv = inv
        self.regex_cache: dict = {}
        self.unjudged: dict[str, list[tuple[VM, str]]] = {}    # where: expression -> VMs it could not judge

    def __call__(self, vm: VM, crit: dict) -> bool:
        for key, want in crit.items():
            if not self._one(vm, key, want):
                return False
        return True

    def _one(self, vm: VM, key: str, want) -> bool:
        if key == "name":
            return vm.name == want
        if key == "id":
            return vm.id == want
        if key == "path":
            return vm.path == want
        if key == "glob":
            return fnmatchcase(vm.name, want)
        if key == "regex":
            return bool(self.regex_cache[want].fullmatch(vm.name))
        if key == "folder":
            return vm.path.startswith(want.rstrip("/") + "/")
        if key == "datacenter":
            return vm.datacenter == want
        if key == "cluster":
            return vm.cluster == want
        if key == "host":
            host = self.inv.hosts.get(vm.host)
            return vm.host == want or (host is not None and host.name == want)
        if key == "namespace":
            return vm.namespace == want
        if key == "powerState":
            return vm.power_state == want
        if key == "guestId":
            return fnmatchcase(vm.guest_id, want)
        if key == "firmware":
            return vm.firmware == want
        if key == "attributes":
            attrs = dict(vm.attributes)
            return all(k in attrs and fnmatchcase(attrs[k], v) for k, v in want.items())
        if key == "where":
            verdict = selection.matches(want, vm, self.inv)
            if isinstance(verdict, str):
                self.unjudged.setdefault(want, []).append((vm, verdict))
                return False
            return verdict
        raise AssertionError(f"selector key {key} is in the schema but not here")


class _Candidates:
    """The VMs a selector can possibly match, looked up by its exact-value keys, so
    selection costs VMs + matches instead of plans x VMs (benchmarks/lock_scale.py).
    Each index is built on first use and keeps the VMs in `vms` order."""

    def __init__(self, vms: list[VM]):
        self.all = vms
        self.indexes: dict[str, dict] = {}

    def __call__(self, criteria: dict) -> list[VM]:
        found = [self._index(key).get(_lookup_value(key, want), []) for key, want in criteria.items()
                 if key in _INDEXED]
        return min(found, key=len) if found else self.all

    def _index(self, key: str) -> dict:
        if key not in self.indexes:
            index: dict = {}
            for vm in self.all:
                for value in _INDEXED[key](vm):
                    index.setdefault(value, []).append(vm)
            self.indexes[key] = index
        return self.indexes[key]


def _folders(path: str):
    """Every prefix of `path` that ends before a `/`: the folders `folder:` can name."""
    cut = path.find("/")
    while cut != -1:
        yield path[:cut]
        cut = path.find("/", cut + 1)


# selector key -> the values a VM is filed under; each must agree with _Matcher._one
_INDEXED = {
    "id": lambda vm: (vm.id,),
    "name": lambda vm: (vm.name,),
    "path": lambda vm: (vm.path,),
    "folder": lambda vm: _folders(vm.path),
    "datacenter": lambda vm: (vm.datacenter,),
    "cluster": lambda vm: (vm.cluster,),
}


def _lookup_value(key: str, want):
    return want.rstrip("/") if key == "folder" else want


def _select(sel: Selector, vms: list[VM], candidates: _Candidates, match: _Matcher, plan: str,
            diags: list) -> list[VM]:
    if "regex" in sel.criteria and sel.criteria["regex"] not in match.regex_cache:
        try:
            match.regex_cache[sel.criteria["regex"]] = re2.compile(sel.criteria["regex"], options=_RE2)
        except re2.error as exc:
            why = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            diags.append(Diagnostic("MTV001", f"regex {sel.criteria['regex']!r} does not compile: {why}", sel.where,
                                    "fix the regular expression (RE2 syntax: no backreferences or lookarounds; "
                                    "matched against the whole name)", plan=plan))
            return []
    if "where" in sel.criteria:
        try:
            selection.compile(sel.criteria["where"])
        except selection.CelError:
            return []           # MTV027 when the spec loaded: a lock never gets here with it
    hits = [vm for vm in candidates(sel.criteria) if match(vm, sel.criteria)]
    unjudged = match.unjudged.pop(sel.criteria.get("where", ""), [])
    if unjudged:
        vm, why = unjudged[0]
        diags.append(Diagnostic("MTV028", f"where: could not be evaluated for {len(unjudged)} VM(s), which are not "
                                f"selected; {vm.name!r} ({vm.id}): {why}", sel.where, plan=plan))
    if sel.exact:
        if not hits:
            word = sel.criteria.get("name") or sel.criteria.get("path") or sel.criteria.get("id")
            pool = [v.name for v in vms] if "name" in sel.criteria else (
                [v.path for v in vms] if "path" in sel.criteria else [v.id for v in vms])
            diags.append(Diagnostic("MTV010", f"no VM matches {_describe(sel)}", sel.where, _closest(word, pool),
                                    plan=plan))
        elif len(hits) > 1:
            listing = ", ".join(f"{v.path or v.name} ({v.id})" for v in hits)
            diags.append(Diagnostic("MTV012", f"{_describe(sel)} matches {len(hits)} VMs: {listing}", sel.where,
                                    "select one by `path:` or `id:`, or add `folder:`/`datacenter:` to this selector",
                                    plan=plan))
            return []
        for v in hits:
            if v.is_template:
                diags.append(Diagnostic("MTV018", f"VM {v.name!r} ({v.id}) is a template", sel.where, plan=plan,
                                        vm=v.id))
        return [v for v in hits if not v.is_template]
    hits = [v for v in hits if not v.is_template]
    if not hits:
        diags.append(Diagnostic("MTV011", f"{_describe(sel)} matches no VM", sel.where, _folder_hint(sel, vms),
                                plan=plan))
    return hits


def _folder_hint(sel: Selector, vms: list[VM]) -> str:
    """`folder: /DC1/prod` for /DC1/vm/prod: name the folders that exist and look alike."""
    want = sel.criteria.get("folder")
    if not want:
        return ""
    folders = set()
    for v in vms:
        parts = v.folder.split("/")
        folders.update("/".join(parts[:n]) for n in range(2, len(parts) + 1))
    near = difflib.get_close_matches(want.rstrip("/"), sorted(folders), n=3, cutoff=0.6)
    return f"did you mean {', '.join(repr(n) for n in near)}?" if near else ""


def _describe(sel: Selector) -> str:
    return " and ".join(f"{k} {v!r}" for k, v in sel.criteria.items())


def _resolve_entry(e: MapEntry, objects: dict, site: Site, diags: list) -> list[str]:
    if e.id:
        if e.id in objects:
            return [e.id]
        diags.append(Diagnostic("MTV017", f"{e.kind} id {e.id!r} does not exist in the source inventory", e.where,
                                _closest(e.id, objects)))
        return []
    scope = [e.datacenter] if e.datacenter else list(site.source.datacenters)
    if site.source.type == "openstack" and e.kind == "storage" and e.source == "glance":
        return ["glance"]  # image-backed instances: a fixed source, not an inventory object
    by_path = site.source.type == "openshift" and "/" in e.source
    hits = [o for o in objects.values()
            if (o.path == e.source if by_path else o.name == e.source)
            and (not scope or not o.datacenter or o.datacenter in scope)]
    if not hits:
        diags.append(Diagnostic("MTV017", f"{e.kind} {e.source!r} does not exist in the source inventory"
                                + (f" (datacenters {', '.join(scope)})" if scope else ""), e.where,
                                _closest(e.source, [o.name for o in objects.values()])))
        return []
    switches = [o for o in hits if getattr(o, "variant", "") == "DvSwitch"]
    if switches:
        diags.append(Diagnostic("MTV034", f"network {e.source!r} is a distributed switch "
                                f"({', '.join(o.id for o in switches)}), not a port group", e.where))
    return sorted(o.id for o in hits if o not in switches)


def _specificity(e: MapEntry) -> int:
    return 3 if e.id else 2 if e.datacenter else 1


def _most_specific(m, resolved: list[list[str]], objects: dict, diags: list) -> list[list[str]]:
    """Forklift takes the first pair whose source matches, so two entries covering one object
    would leave the second silently dead. The most specific entry wins (an id over a name
    scoped by datacenter over a bare name); two equally specific entries are an error."""
    owner: dict[str, int] = {}
    for i, ids in enumerate(resolved):
        for obj_id in ids:
            j = owner.get(obj_id)
            if j is None or _specificity(m.entries[i]) > _specificity(m.entries[j]):
                owner[obj_id] = i
            elif _specificity(m.entries[i]) == _specificity(m.entries[j]) and i != j:
                name = getattr(objects.get(obj_id), "name", obj_id)
                diags.append(Diagnostic("MTV038", f"{m.kind} {name!r} ({obj_id}) is mapped by two entries (the other "
                                        f"is at line {m.entries[j].where.line})", m.entries[i].where,
                                        "keep one, or scope one of them with `datacenter:` or `id:`"))
    kept = [[x for x in ids if owner.get(x) == i] for i, ids in enumerate(resolved)]
    for e, ids in zip(m.entries, kept, strict=True):
        dcs = sorted({getattr(objects.get(x), "datacenter", "") for x in ids} - {""})
        if len(dcs) > 1 and not e.datacenter and not e.id:
            diags.append(Diagnostic("MTV039", f"{m.kind} {e.source!r} exists in datacenters {', '.join(dcs)}; "
                                    "every one of them is mapped here", e.where,
                                    "add `datacenter:` to the entry if only one is meant"))
    return kept


def resolve(site: Site, inv: Inventory, frozen: dict[str, list[str]] | None = None,
            pinned: dict[str, list[str]] | None = None) -> Resolution:
    """`frozen`: done plans -> their VMs in the previous lock. They are not selected again
    (a VM that vanished from the source does not fail the lock), and their VMs stay theirs.
    `pinned`: running plans and batches -> their VMs, likewise (a pinned batch's plan still
    selects, for its batches that have not started)."""
    res = Resolution(frozen=set(frozen or {}))
    pinned = pinned or {}
    diags = res.diagnostics
    scope = set(site.source.datacenters)
    vms = sorted((v for v in inv.vms.values() if not scope or v.datacenter in scope), key=lambda v: (v.path, v.id))
    match, candidates = _Matcher(inv), _Candidates(vms)
    moved = site.ledger.of_source(inv.provider) if site.ledger is not None else {}
    owner: dict[str, str] = {vm: f"{plan} (done)" for plan, ids in (frozen or {}).items() for vm in ids}
    owner.update({vm: f"{name} (started)" for name, ids in pinned.items() for vm in ids})
    # a pinned batch's VMs stay its plan's to select (for the batches that have not started)
    own_pinned = {vm: p.name for name, ids in pinned.items() if (p := lifecycle.spec_plan_of(name, site.spec_plans))
                  for vm in ids}
    for plan in site.spec_plans:
        if plan.name in res.frozen or plan.name in pinned:
            continue
        chosen: dict[str, VM] = {}
        exact_seen: dict[str, Selector] = {}
        again = {v.id for text, _ in plan.remigrate for v in match_vms(text, vms)}
        for sel in plan.select:
            for vm in _select(sel, vms, candidates, match, plan.name, diags):
                entry = moved.get(vm.id)
                if entry is not None and vm.id not in again:
                    if sel.exact:       # named: an error; a pattern skips it (and the lock says how many)
                        diags.append(Diagnostic("MTV153", f"VM {vm.name!r} ({vm.id}) has already moved: plan "
                                                f"{entry.plan} migrated it to {entry.namespace}/{entry.target} on "
                                                f"{entry.date} ({entry.migration})", sel.where,
                                                "take it out of the plan, or list it under `remigrate:` to migrate "
                                                "it again", plan=plan.name, vm=vm.id))
                    else:
                        res.moved.setdefault(plan.name, []).append(vm.id)
                    continue
                if sel.exact and vm.id in exact_seen and exact_seen[vm.id] is not sel:
                    diags.append(Diagnostic("MTV013", f"VM {vm.name!r} ({vm.id}) is also selected at line "
                                            f"{exact_seen[vm.id].where.line}", sel.where, plan=plan.name, vm=vm.id))
                if sel.exact:
                    exact_seen[vm.id] = sel
                chosen[vm.id] = vm
        for sel in plan.exclude:
            hits = [v for v in chosen.values() if match(v, sel.criteria)]
            if not hits:
                diags.append(Diagnostic("MTV011", f"exclude {_describe(sel)} matches no selected VM", sel.where,
                                        plan=plan.name))
            for v in hits:
                del chosen[v.id]
        if not chosen and not any(d.plan == plan.name and d.code in ("MTV010", "MTV012") for d in diags):
            # an ambiguous or missing exact selector already says why the plan is empty
            diags.append(Diagnostic("MTV015", f"plan '{plan.name}' selects no VM", plan.where, plan=plan.name))
        for vm_id, vm in chosen.items():
            # a done plan's VM may be migrated again on purpose (`remigrate:`)
            if vm_id in owner and own_pinned.get(vm_id) != plan.name and \
                    not (vm_id in again and owner[vm_id].endswith("(done)")):
                diags.append(Diagnostic("MTV014", f"VM {vm.name!r} ({vm_id}) is selected by plans '{owner[vm_id]}' "
                                        f"and '{plan.name}'", plan.where, "exclude it from one of the plans",
                                        plan=plan.name, vm=vm_id))
            owner.setdefault(vm_id, plan.name)
        res.plans[plan.name] = sorted(chosen, key=lambda i: (chosen[i].path, i))
    for m in site.maps:
        objects = inv.networks if m.kind == "network" else inv.datastores
        res.maps[m.name] = _most_specific(m, [_resolve_entry(e, objects, site, diags) for e in m.entries],
                                          objects, diags)
    for h in site.source.hosts:
        hits = [x for x in inv.hosts.values() if x.name == h.name and (not scope or x.datacenter in scope)]
        if len(hits) == 1:
            res.hosts[h.name] = hits[0].id
        elif not hits:
            diags.append(Diagnostic("MTV017", f"ESXi host {h.name!r} does not exist in the source inventory",
                                    h.where, _closest(h.name, [x.name for x in inv.hosts.values()])))
        else:
            diags.append(Diagnostic("MTV012", f"host name {h.name!r} matches {len(hits)} hosts: "
                                    + ", ".join(f"{x.path} ({x.id})" for x in hits), h.where,
                                    "limit source.datacenters to one datacenter"))
    return res


def preview(inv: Inventory, selectors: list[Selector], scope: tuple[str, ...] = ()) -> tuple[list[VM], list]:
    """The VMs `selectors` (OR) choose, exactly as a plan's `select:` would, and the
    diagnostics it would give (`mtvgen inventory --select`)."""
    diags: list = []
    vms = sorted((v for v in inv.vms.values() if not scope or v.datacenter in scope), key=lambda v: (v.path, v.id))
    match, candidates = _Matcher(inv), _Candidates(vms)
    chosen: dict[str, VM] = {}
    for sel in selectors:
        for vm in _select(sel, vms, candidates, match, "", diags):
            chosen[vm.id] = vm
    return sorted(chosen.values(), key=lambda v: (v.path, v.id)), diags
