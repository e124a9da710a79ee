"""The one error family. Every user-facing failure is an MtvgenError.

A message reads like a good compiler's: where (file:line:col), what, how to fix.
The CLI is the only place that turns these into exit codes; library code never
calls sys.exit. Anything that is not an MtvgenError is a bug and keeps its traceback.
"""

from __future__ import annotations

import msgspec


class Location(msgspec.Struct, frozen=True, order=True):
    file: str
    line: int = 0  # 1-based; 0 = whole file
    col: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.col}" if self.col else f"{self.file}:{self.line}"


class MtvgenError(Exception):
    """Root of every error mtvgen reports to a user."""

    exit_code = 1

    def __init__(self, what: str, *, where: Location | None = None, fix: str | None = None):
        super().__init__(what)
        self.what = what
        self.where = where
        self.fix = fix

    def __str__(self) -> str:
        head = f"{self.where}: error: {self.what}" if self.where else f"error: {self.what}"
        return head + (f"\n  help: {self.fix}" if self.fix else "")


class DiagnosticsFailed(MtvgenError):
    """Raised when a stage found error diagnostics; they are printed together."""

    def __init__(self, diagnostics: list, summary: str):
        super().__init__(summary)
        self.diagnostics = diagnostics

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self.diagnostics) + f"\n{self.what}"


class LockError(MtvgenError):
    """The lock file is missing, unreadable or stale."""


class EmitError(MtvgenError):
    """Output could not be written (permissions, disk full): an environment error."""

    exit_code = 2


class UsageError(MtvgenError):
    """Bad command-line usage or environment (missing flag, unset variable)."""

    exit_code = 2


class InventoryError(MtvgenError):
    """A live inventory could not be read. Raised only by compiler.inventory."""

    exit_code = 2


class ConnectError(InventoryError):
    """Host unreachable or connection refused."""


class TimeoutError_(InventoryError):  # noqa: N801 - avoid shadowing the builtin
    """The endpoint did not answer in time."""


class TLSError(InventoryError):
    """TLS verification failed."""


class AuthError(InventoryError):
    """Credentials were rejected."""


class PermissionDenied(InventoryError):
    """Authenticated, but not allowed to read what is needed."""


class EditRefused(DiagnosticsFailed):
    """A lifecycle edit whose result would not build: nothing was written."""
