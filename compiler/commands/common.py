"""What every command shares: the common options, the one error boundary (`run`),
and how diagnostics are printed. The only place that maps errors to exit codes:
0 clean, 1 problems found in the input, 2 usage or environment error, 3 a bug.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from datetime import datetime
from pathlib import Path

import click

from .. import diagnostics, pipeline
from ..errors import DiagnosticsFailed, MtvgenError, UsageError

FORMAT = click.option("--format", "fmt", type=click.Choice(sorted(diagnostics.FORMATS)), default="text",
                      show_default=True, help="How to print diagnostics.")
SITES_DIR = click.option("--sites-dir", type=click.Path(path_type=Path), default=Path("sites"), show_default=True)
NOW = click.option("--now", "now", default=None, hidden=True, help="Pretend time (ISO 8601) for cutover checks.")


def parse_now(value):
    return datetime.fromisoformat(value) if value else None


NOTES = click.option("--notes", is_flag=True, help="Also print notes (info diagnostics) in text output.")


def format_diags(diags, fmt: str, notes: bool = True) -> str:
    return diagnostics.as_text(diags, notes) if fmt == "text" else diagnostics.FORMATS[fmt](diags)


def emit_diags(diags, fmt: str, notes: bool = True) -> None:
    """Text goes to stderr beside progress messages; machine formats to stdout."""
    if diags:
        (sys.stdout if fmt != "text" else sys.stderr).write(format_diags(diags, fmt, notes))


@contextlib.contextmanager
def quiet_collector(offline: bool):
    """A command builds millions of small objects that live until it ends; with the default
    thresholds the collector rescans them over and over (60% of reading a 10k-VM YAML
    snapshot, benchmarks/lock_scale.py). An offline command (build, check, summary) makes
    no cycles that die before it ends (tests/test_hardening.py holds it to that), so it
    runs without the collector: 0.02 s of a 10k-VM build, 0.09 s at 50k, the same peak
    memory. The others still collect, rarely: pyVmomi's object graphs form cycles."""
    was_enabled = gc.isenabled()
    gc.freeze()
    if offline:
        gc.disable()
    else:
        gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        # a caller in the same process (the tests) gets its collector back; freezing first
        # spares it one pass over everything the command made (a 10k-VM build: 40 ms)
        gc.freeze()
        if was_enabled:
            gc.enable()


def run(fn, offline: bool = False):
    """The one error boundary: MtvgenError -> message + exit code (1 input, 2 environment);
    an unforeseen OSError is the environment too; anything else is a bug in mtvgen (exit 3),
    reported in one line unless MTVGEN_DEBUG=1 asks for the traceback."""
    with quiet_collector(offline):
        try:
            return fn()
        except DiagnosticsFailed as exc:
            params = click.get_current_context().params
            emit_diags(exc.diagnostics, params.get("fmt", "text"), params.get("notes", True))
            sys.exit(1)
        except MtvgenError as exc:
            click.echo(str(exc), err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; nothing half-written is left behind", err=True)
            sys.exit(130)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc}\n  help: check the path, permissions and free space", err=True)
            sys.exit(2)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
            if os.environ.get("MTVGEN_DEBUG"):
                raise
            click.echo(f"internal error: {type(exc).__name__}: {exc}\n  help: this is a bug in mtvgen; run again with "
                       "MTVGEN_DEBUG=1 for the traceback and report it", err=True)
            sys.exit(3)


def site_dirs(sites: tuple[Path, ...], sites_dir: Path) -> list[Path]:
    if sites:
        return [Path(s) for s in sites]
    found = pipeline.discover(sites_dir)
    if not found:
        raise UsageError(f"no sites under {sites_dir}/", fix="run from the repository root, or pass --sites-dir")
    return found


class SiteDir(click.ParamType):
    """A site: its directory, or its bare name for `sites/<name>` (what the lock's header
    and every hint print, `mtvgen lock dc0`)."""
    name = "SITE"

    def __init__(self, must_exist: bool = True):
        self.must_exist = must_exist

    def convert(self, value, param, ctx):
        path = Path(value)
        if path.is_dir():
            return path
        named = Path("sites") / value
        if "/" not in str(value) and (named.is_dir() or (not self.must_exist and Path("sites").is_dir())):
            return named
        if not self.must_exist:
            return path
        self.fail(f"no site {str(value)!r}: neither a directory nor sites/{value}/", param, ctx)
