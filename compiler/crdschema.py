"""CRD openAPIV3Schema -> strict JSON Schema (draft 7), the way kubeconform does
it: every object that lists its properties rejects unknown ones, unless the
CRD says x-kubernetes-preserve-unknown-fields. Used by `mtvgen schemas pull`
to validate builds against the exact CRDs a cluster runs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from . import files
from .errors import Location, MtvgenError

SCHEMA_DIR = "schemas"     # inside a site directory
VERSION_FILE = "VERSION.json"


def strict(node):
    if isinstance(node, list):
        return [strict(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: strict(v) for k, v in node.items()}
    if node.pop("x-kubernetes-int-or-string", False):
        node.pop("type", None)
        node.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if node.pop("nullable", False) and isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
    if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node \
            and not node.get("x-kubernetes-preserve-unknown-fields"):
        node["additionalProperties"] = False
    return node


def from_crd(crd: dict) -> tuple[str, dict]:
    """(kind, strict schema of the served storage version)."""
    version = next(v for v in crd["spec"]["versions"] if v.get("storage", v.get("served")))
    schema = strict(version["schema"]["openAPIV3Schema"])
    schema.setdefault("properties", {})["metadata"] = {"type": "object"}  # validated by our own schemas
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return crd["spec"]["names"]["kind"], schema


def store(site_dir: Path, crds: list[dict], source: str) -> dict:
    """Write <site>/schemas/<kind>.json and VERSION.json; returns the version record."""
    folder = Path(site_dir) / SCHEMA_DIR
    record = {"source": source, "kinds": {}}
    for crd in sorted(crds, key=lambda c: c["spec"]["names"]["kind"]):
        kind, schema = from_crd(crd)
        text = json.dumps(schema, indent=1, sort_keys=True) + "\n"
        files.atomic_write(folder / f"{kind.lower()}.json", text)
        meta = crd.get("metadata") or {}
        record["kinds"][kind] = {
            "crd": meta.get("name", ""),
            "version": next(v["name"] for v in crd["spec"]["versions"] if v.get("storage", v.get("served"))),
            "controllerGen": (meta.get("annotations") or {}).get("controller-gen.kubebuilder.io/version", ""),
            "operatorVersion": (meta.get("labels") or {}).get("app.kubernetes.io/version", ""),
            "digest": "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16],
        }
    files.atomic_write(folder / VERSION_FILE, json.dumps(record, indent=1, sort_keys=True) + "\n")
    return record


def pulled_release(site_dir: Path) -> str:
    """The operator release the site's pulled CRDs carry (their app.kubernetes.io/version
    label), when they all say the same; "" otherwise or when none was pulled."""
    try:
        record = json.loads((Path(site_dir) / SCHEMA_DIR / VERSION_FILE).read_text(encoding="utf-8"))
        versions = {k.get("operatorVersion", "") for k in record["kinds"].values()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ""        # load() reports a broken record with its file
    return versions.pop() if len(versions) == 1 else ""


def load(site_dir: Path) -> dict[str, dict]:
    """Kind -> schema pulled for this site ({} when none was pulled). The files are committed
    with the site, so a bad merge or a hand edit is possible: each must be a valid draft-7
    schema, else the error names the file."""
    folder = Path(site_dir) / SCHEMA_DIR
    if not (folder / VERSION_FILE).exists():
        return {}
    path = folder / VERSION_FILE
    try:
        kinds = list(json.loads(path.read_text(encoding="utf-8"))["kinds"])
        schemas = {}
        for kind in kinds:
            path = folder / f"{kind.lower()}.json"
            schemas[kind] = json.loads(path.read_text(encoding="utf-8"))
            _check(schemas[kind])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MtvgenError(f"the pulled schemas cannot be used ({type(exc).__name__}: {str(exc)[:200]})",
                          where=Location(str(path)),
                          fix=f"re-run `mtvgen schemas pull {site_dir}`, or delete {folder} to build without them") \
            from None
    return schemas


def _check(schema) -> None:
    import jsonschema      # only for sites with pulled schemas: about 40 ms of imports

    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ValueError(f"not a draft-7 schema: {exc.message}") from None
