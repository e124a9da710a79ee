"""Validate documents against the upstream Forklift CRDs (../shared/crds),
made strict by compiler.crdschema (unknown fields are errors unless the schema
says x-kubernetes-preserve-unknown-fields; tests/test_crdschema.py covers it)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

from compiler import crdschema

CRDS = Path(__file__).resolve().parent.parent.parent / "shared" / "crds"


@lru_cache(maxsize=None)
def validator(kind: str):
    for path in CRDS.glob("forklift.konveyor.io_*.yaml"):
        crd = yaml.safe_load(path.read_text())
        if crd["spec"]["names"]["kind"] == kind:
            return jsonschema.Draft7Validator(crdschema.from_crd(crd)[1])
    return None


def errors(doc: dict) -> list[str]:
    v = validator(doc["kind"])
    if v is None:
        return []
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(doc)]


def available() -> bool:
    return CRDS.is_dir()
