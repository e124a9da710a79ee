"""Validate documents against the upstream Forklift CRDs (../shared/crds),
made strict the way kubeconform does: unknown fields are errors unless the
schema says x-kubernetes-preserve-unknown-fields."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

CRDS = Path(__file__).resolve().parent.parent.parent / "shared" / "crds"


def _strict(node):
    if isinstance(node, dict):
        node = {k: _strict(v) for k, v in node.items()}
        if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node \
                and not node.get("x-kubernetes-preserve-unknown-fields"):
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


@lru_cache(maxsize=None)
def validator(kind: str):
    for path in CRDS.glob("forklift.konveyor.io_*.yaml"):
        crd = yaml.safe_load(path.read_text())
        if crd["spec"]["names"]["kind"] == kind:
            schema = _strict(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
            schema["properties"]["metadata"] = {"type": "object"}
            return jsonschema.Draft7Validator(schema)
    return None


def errors(doc: dict) -> list[str]:
    v = validator(doc["kind"])
    if v is None:
        return []
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(doc)]


def available() -> bool:
    return CRDS.is_dir()
