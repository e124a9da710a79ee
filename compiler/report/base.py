"""The base of a comparison: a directory (a checkout holding out/ and sites/, or
an out/ tree itself) or a git ref, whose out/ and sites/ are unpacked with
`git archive` into a temporary directory.

In: what the user named, and the repository. Out: (out/ root, sites/ root or None).
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import tarfile
import tempfile
from pathlib import Path

from ..errors import UsageError


@contextlib.contextmanager
def opened(base: str, repo: Path):
    path = Path(base)
    if path.is_dir():
        if (path / "out").is_dir():
            yield path / "out", (path / "sites") if (path / "sites").is_dir() else None
        else:
            yield path, None
        return
    with tempfile.TemporaryDirectory(prefix="mtvgen-base-") as tmp:
        for part in ("out", "sites"):
            p = subprocess.run(["git", "archive", "--format=tar", base, part], cwd=repo, capture_output=True)
            if p.returncode != 0:
                if part == "out":
                    why = p.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["git failed"]
                    raise UsageError(f"cannot read out/ at {base!r}: {why[0]}",
                                     fix="name a git ref that has out/ committed, or a directory")
                continue
            with tarfile.open(fileobj=io.BytesIO(p.stdout)) as tar:
                tar.extractall(tmp, filter="data")
        root = Path(tmp)
        yield root / "out", (root / "sites") if (root / "sites").is_dir() else None
