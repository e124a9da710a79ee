"""Writing a file so that no reader ever sees half of it: below every stage, so the
lock, edits and pulled schemas do not lean on emit (and through it on delivery)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import EmitError


def cannot(path: Path, exc: OSError) -> EmitError:
    return EmitError(f"cannot write {path}: {exc.strerror or exc}",
                     fix="check free space and permissions of the output directory")


def atomic_write(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename it over: the old content or the
    new, never a torn file, whatever interrupts us."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise cannot(path, exc) from None
    except BaseException:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise
