"""Files shipped inside the package (schemas/, templates/), found the same way
from a checkout and from an installed wheel."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path


def _data_dir(name: str) -> Path:
    try:  # installed (wheel or editable): shipped as package data
        return Path(str(resources.files(f"compiler.{name}")))
    except ModuleNotFoundError:  # a plain checkout on sys.path
        return Path(__file__).resolve().parent.parent / name


def schemas_dir() -> Path:
    return _data_dir("schemas")


def templates_dir() -> Path:
    return _data_dir("templates")


@lru_cache(maxsize=None)
def schema(relpath: str) -> dict:
    return json.loads((schemas_dir() / relpath).read_text(encoding="utf-8"))
