"""Validate documents against the upstream CRDs in ../shared/crds (Forklift) and
../shared/crds/ecosystem (Argo CD, Flux, External Secrets, Sealed Secrets),
made strict by compiler.crdschema (unknown fields are errors unless the schema
says x-kubernetes-preserve-unknown-fields). Test data only: never copied into
the project."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import jsonschema
import pytest
import yaml

from compiler import crdschema

CRDS = Path(__file__).resolve().parent.parent.parent / "shared" / "crds"


@lru_cache(maxsize=None)
def _schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> strict schema, for every served version of every CRD."""
    out = {}
    for path in sorted(CRDS.glob("*.yaml")) + sorted(CRDS.glob("ecosystem/*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                schema = crdschema.strict(version["schema"]["openAPIV3Schema"])
                schema.setdefault("properties", {})["metadata"] = {"type": "object"}
                out[(f"{group}/{version['name']}", kind)] = schema
    return out


@lru_cache(maxsize=None)
def validator(api_version: str, kind: str):
    schema = _schemas().get((api_version, kind))
    return jsonschema.Draft7Validator(schema) if schema is not None else None


def errors(doc: dict) -> list[str]:
    """Schema violations; a kind without a CRD to check against is an error, not a pass."""
    if doc.get("apiVersion") == "v1" and doc.get("kind") == "Secret":
        return []  # a core kind: the API server's own, not a CRD
    v = validator(doc.get("apiVersion"), doc.get("kind"))
    if v is None:
        return [f"no CRD for {doc.get('apiVersion')} {doc.get('kind')} under {CRDS}"]
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(doc)]


def require() -> None:
    """Under CI a missing ../shared is a failure, never a silent skip."""
    if not CRDS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{CRDS} is missing: the conformance data comes with shared/")
        pytest.skip(f"{CRDS} not present")
