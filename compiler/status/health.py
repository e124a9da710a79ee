"""The health rules of templates/health/*.lua, in Python, for `mtvgen status`.

Argo CD runs the Lua; mtvgen status runs this. tests/test_status.py holds both
to the same table (delivery/health.SEMANTICS) and the same upstream-shaped
fixtures, so the status view says what Argo CD says.

In: a Forklift object as the API serves it. Out: (status, message).
"""

from __future__ import annotations

import msgspec




class Tally(msgspec.Struct):
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    canceled: int = 0
    done: int = 0
    queued: int = 0
    paused: int = 0
    warm: int = 0
    reason: str | None = None

    def text(self) -> str:
        parts = [f"{self.succeeded}/{self.total} succeeded"]
        parts += [f"{n} {word}" for n, word in ((self.failed, "failed"), (self.canceled, "canceled")) if n]
        if self.total - self.done:
            parts.append(f"{self.total - self.done} not finished")
        text = ", ".join(parts)
        return f"{text} ({self.reason})" if self.reason else text


def true_conditions(obj: dict) -> tuple[dict, dict | None, int]:
    """(type -> condition) of the True conditions, the first blocker, the number of blockers."""
    on, blocker, blockers = {}, None, 0
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("status") == "True":
            on[c.get("type")] = c
            if c.get("category") in ("Critical", "Error"):
                blockers += 1
                blocker = blocker or c
    return on, blocker, blockers


def has(conditions, wanted: str) -> bool:
    return any(c.get("type") == wanted and c.get("status") == "True" for c in conditions or [])


def tally(vms) -> Tally:
    n = Tally()
    for vm in vms or []:
        n.total += 1
        conds = vm.get("conditions")
        n.succeeded += has(conds, "Succeeded")
        n.canceled += has(conds, "Canceled")
        if has(conds, "Failed"):
            n.failed += 1
            reasons = (vm.get("error") or {}).get("reasons") or []
            if n.reason is None and reasons:
                n.reason = f"{vm.get('name')}: {reasons[0]}"
        if vm.get("completed") is not None:
            n.done += 1
        elif vm.get("started") is None:
            n.queued += 1
        elif vm.get("phase") == "CopyingPaused":
            n.paused += 1
        if vm.get("warm") is not None or vm.get("phase") == "CopyingPaused":
            n.warm += 1
    return n


def _stale(obj: dict) -> bool:
    gen = (obj.get("metadata") or {}).get("generation")
    status = obj.get("status")
    return gen is not None and status is not None and (status.get("observedGeneration") or 0) < gen


def _why(c: dict, more: int = 0) -> str:
    text = c.get("type", "")
    if c.get("message"):
        text += ": " + c["message"]
    return text + (f" (and {more - 1} more)" if more > 1 else "")


def plan(obj: dict) -> tuple[str, str]:
    on, blocker, blockers = true_conditions(obj)
    runs = tally(((obj.get("status") or {}).get("migration") or {}).get("vms"))
    if _stale(obj):
        gen = obj["metadata"]["generation"]
        if "Succeeded" in on:
            return ("Degraded", f"Succeeded plans are never reconciled again: generation {gen} will not be applied "
                    f"(observed {obj['status'].get('observedGeneration') or 0}); put new VMs or options in a new plan")
        return "Progressing", f"Waiting for the controller to observe generation {gen}"
    archived = (obj.get("spec") or {}).get("archived") is True
    if archived:
        return ("Healthy", "Archived") if "Archived" in on else ("Progressing", "Archiving")
    if blocker:
        return "Degraded", _why(blocker, blockers)
    if "Executing" in on:
        return "Healthy", f"Executing: {runs.text()} (see the Migration)"
    if "Succeeded" in on:
        return "Healthy", f"Succeeded: {runs.text()}"
    if "Failed" in on:
        return "Healthy", f"Last run failed: {runs.text()}; a new start.attempt retries the VMs that did not succeed"
    if "Canceled" in on:
        return "Healthy", f"Last run canceled: {runs.text()}; a new start.attempt runs the rest"
    if "Ready" in on:
        return "Healthy", "Ready"
    return "Progressing", "Waiting for plan validation"


def migration(obj: dict) -> tuple[str, str]:
    on, blocker, blockers = true_conditions(obj)
    status = obj.get("status") or {}
    n = tally(status.get("vms"))
    if "Succeeded" in on:
        return "Healthy", f"Succeeded: {n.text()}"
    if "Failed" in on:
        return "Degraded", f"Failed: {n.text()}"
    if "Canceled" in on:
        return "Suspended", f"Canceled: {n.text()}"
    if blocker:
        return "Degraded", f"Blocked: {_why(blocker, blockers)}"
    if "Running" not in on:
        if status.get("observedGeneration") is not None:
            return ("Suspended", "Not started: the plan runs one Migration at a time, and a plan that has already "
                    "Succeeded never starts another")
        return "Progressing", "Waiting for the migration controller"
    spec = obj.get("spec") or {}
    pinned = {c.get("id") for c in spec.get("vmCutover") or []}
    waiting = open_ = 0
    for vm in status.get("vms") or []:
        if vm.get("completed") is None:
            open_ += 1
            warm = vm.get("warm") is not None or vm.get("phase") == "CopyingPaused"
            if vm.get("started") is None or (warm and not spec.get("cutover") and vm.get("id") not in pinned):
                waiting += 1
    if n.warm and open_ and waiting == open_:
        return ("Suspended", f"Warm precopies running, no cutover set: {n.paused} between precopies, "
                f"{open_ - n.paused - n.queued} copying, {n.queued} queued; set start.cutover to finish")
    return "Progressing", f"Running: {n.text()}"


_OBSERVE = "Waiting for the controller to observe the change"


def provider(obj: dict) -> tuple[str, str]:
    """A Provider: connected and its inventory loaded. Its Secret is judged through it:
    a missing or wrong Secret is a Critical condition of the Provider (mtvgen does not
    read Secrets, so status needs no right to)."""
    on, blocker, blockers = true_conditions(obj)
    if _stale(obj):
        return "Progressing", _OBSERVE
    for t in ("ConnectionAuthFailed", "ConnectionTestFailed", "InventoryError"):
        if t in on:
            return "Degraded", _why(on[t])
    if blocker:
        return "Degraded", _why(blocker, blockers)
    if "Ready" in on and (obj.get("status") or {}).get("phase") == "Ready":
        return "Healthy", "Ready"
    return "Progressing", "Connecting and loading the inventory"


def host(obj: dict) -> tuple[str, str]:
    """A Host (templates/health/Host.lua): maintenance is a pause, else as a map."""
    if not _stale(obj) and "InMaintenance" in true_conditions(obj)[0]:
        return "Suspended", "In maintenance: plans skip this host and copy through vCenter"
    return ready(obj, "Waiting for validation and the connection test")


def ready(obj: dict, waiting: str = "Waiting for validation") -> tuple[str, str]:
    """NetworkMap, StorageMap, Hook (templates/health/Ready.lua)."""
    on, blocker, blockers = true_conditions(obj)
    if _stale(obj):
        return "Progressing", _OBSERVE
    if blocker:
        return "Degraded", _why(blocker, blockers)
    if "Ready" in on:
        return "Healthy", "Ready"
    return "Progressing", waiting


ASSESS = {"Plan": plan, "Migration": migration, "Provider": provider, "Host": host, "NetworkMap": ready,
          "StorageMap": ready, "Hook": ready}
