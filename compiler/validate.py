"""Stage 7: every generated document against the project's strict Forklift
schemas (schemas/forklift/), and every reference against what the build emits
or the spec declares external. Failures point at the spec line behind the field.
"""

from __future__ import annotations

import copy
from functools import lru_cache

from . import crdschema, resources
from .schemacheck import Schema
from .diagnostics import Diagnostic
from .profile import MAIN, Profile
from .documents import Document
from .sitemodel import Site
from .tables import KINDS


def _inline(node, doc: dict, docs: dict):
    """Replace every $ref by the schema it names. Our schemas have no cycles,
    and resolving references per validated value was a third of a 10,000-VM
    build (benchmarks/build_scale.py)."""
    if isinstance(node, list):
        return [_inline(v, doc, docs) for v in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        file, _, pointer = node["$ref"].partition("#")
        target = docs[file] if file else doc
        sub = target
        for part in pointer.strip("/").split("/"):
            sub = sub[part]
        rest = {k: v for k, v in node.items() if k != "$ref"}
        resolved = _inline(sub, target, docs)
        return {"allOf": [resolved, _inline(rest, doc, docs)]} if rest else resolved
    return {k: _inline(v, doc, docs) for k, v in node.items()}


@lru_cache(maxsize=None)
def _validators(release: str = MAIN) -> dict[str, Schema]:
    """The project's schemas follow the newest release (main); for an older one, a Plan
    need not carry what that release does not have, and before 2.10 says `warm: true`.
    A field the release lacks stays allowed here: release_fields reports it, once."""
    folder = resources.schemas_dir() / "forklift"
    docs = {path.name: resources.schema(f"forklift/{path.name}") for path in sorted(folder.glob("*.json"))}
    if release != MAIN:
        docs["plan.json"] = _plan_for(docs["plan.json"], Profile(release))
    return {kind: Schema(_inline(docs[k.schema], docs[k.schema], docs), "2020-12", formats=True)
            for kind, k in KINDS.items() if k.schema}


def _plan_for(schema: dict, profile: Profile) -> dict:
    schema = copy.deepcopy(schema)
    spec = schema["properties"]["spec"]
    spec["required"] = [f for f in spec["required"] if profile.has(f"Plan.spec.{f}")]
    if not profile.has("Plan.spec.type"):
        spec["properties"]["warm"] = {"type": "boolean"}
    return schema


def _site_validators(site_dir) -> dict[str, Schema]:
    """Validators from the CRDs pulled for this site (`mtvgen schemas pull`), if any."""
    return {kind: Schema(schema, "7", formats=False) for kind, schema in crdschema.load(site_dir).items()}


def schema_errors(doc: Document, extra: dict | None = None, release: str = MAIN) -> list[Diagnostic]:
    out = []
    for label, validator in (("", _validators(release).get(doc.kind)), (" (cluster CRD)", (extra or {}).get(doc.kind))):
        if validator is None:
            continue
        for err in validator.iter_errors(doc.body):
            path = list(err.absolute_path)
            field = "/".join(str(p) for p in path) or "(document)"
            out.append(Diagnostic("MTV099", f"{doc.kind} {doc.name}{label}: {field}: {err.message}",
                                  doc.where_for(path), "fix the spec value behind this field", plan=doc.plan))
    return out


def release_fields(site: Site, doc: Document) -> list[Diagnostic]:
    """Every field of a Forklift object exists in the release the site targets (the
    project's schemas follow the newest; profile.py says what older ones lack)."""
    if doc.kind not in KINDS or not KINDS[doc.kind].schema:
        return []
    out = []
    profile = site.profile
    for path, field in profile.missing(doc.kind, doc.body):
        since = profile.since(field)
        what = f"provider type {field.split('=', 1)[1]}" if "=" in field else f"field {field}"
        out.append(Diagnostic("MTV098", f"{doc.kind} {doc.name}: {profile.shown} has no {what}"
                              + (f" (from {since} on)" if since else ""), doc.where_for(path),
                              f"drop the option, or set forkliftVersion to {since or 'main'} if the cluster runs it",
                              plan=doc.plan))
    return out


def references(site: Site, docs: list[Document]) -> list[Diagnostic]:
    """Every object a document names is emitted here or declared external."""
    have = {(d.kind, d.namespace, d.name) for d in docs}
    secrets = {(d.namespace, d.name) for d in docs if d.kind in ("Secret", "ExternalSecret", "SealedSecret")}
    ns = site.mtv_namespace
    external = set()
    if site.destination.external:
        external.add(("Provider", ns, site.destination.name))
    if site.source.external:
        external.add(("Provider", ns, site.source.name))
    for c in [site.source.credentials] + [h.credentials for h in site.source.hosts]:
        if c is not None and c.mode == "secret":
            secrets.add((ns, c.secret))
    out = []

    def need(doc: Document, kind: str, ref: dict, path):
        key = (ref.get("namespace", ""), ref.get("name", ""))
        ok = key in secrets if kind == "Secret" else (kind, *key) in have | external
        if not ok:
            out.append(Diagnostic("MTV099", f"{doc.kind} {doc.name} refers to {kind} {key[0]}/{key[1]}, which is "
                                  "neither generated nor declared external", doc.where_for(path),
                                  "define it in the spec, or mark it external", plan=doc.plan))

    for d in docs:
        spec = d.body.get("spec", {})
        if d.kind in ("Provider", "Host"):
            need(d, "Secret", spec["secret"], ["spec", "secret"])
        if d.kind == "Host":
            need(d, "Provider", spec["provider"], ["spec", "provider"])
        if d.kind in ("NetworkMap", "StorageMap", "Plan"):
            for side in ("source", "destination"):
                need(d, "Provider", spec["provider"][side], ["spec", "provider", side])
        if d.kind == "Plan":
            need(d, "NetworkMap", spec["map"]["network"], ["spec", "map", "network"])
            need(d, "StorageMap", spec["map"]["storage"], ["spec", "map", "storage"])
            for i, vm in enumerate(spec["vms"]):
                for hook in vm.get("hooks", []):
                    need(d, "Hook", hook["hook"], ["spec", "vms", i, "hooks"])
        if d.kind == "Migration":
            need(d, "Plan", spec["plan"], ["spec", "plan"])
    return out


def validate(site: Site, docs: list[Document]) -> list[Diagnostic]:
    out = []
    pulled = _site_validators(site.dir)
    for d in docs:
        out += schema_errors(d, pulled, site.profile.release)
        out += release_fields(site, d)
    seen = {}
    for d in docs:
        key = (d.kind, d.namespace, d.name)
        if key in seen:
            out.append(Diagnostic("MTV003", f"two {d.kind} objects are named {d.name}", d.where,
                                  f"the other comes from line {seen[key].where.line}; rename one", plan=d.plan))
        seen[key] = d
    return out + references(site, docs)
