"""Health of the objects mtvgen emits, as Argo CD and Flux assess it.

Argo CD: one Lua script per kind (templates/health/, the shared prelude plus
the kind's body), installed once per Argo CD instance (`mtvgen health-checks`).
Flux: CEL `healthCheckExprs` written into every Kustomization. Both follow the
Forklift controllers' status semantics (kubev2v/forklift d42511b:
pkg/apis/forklift/v1beta1, pkg/controller/plan/migration.go `end()`,
pkg/controller/migration/controller.go `reflectPlan`), and one rule above all:
nothing in a gating position may report a run's outcome, or a failed run
would block the Migration that retries it.

SEMANTICS is the table the README's "What health means" is generated from;
tests/test_health.py runs one upstream-shaped status fixture per row through
the Lua (through Argo CD's own util/lua) and the CEL (a real evaluator).
"""

from __future__ import annotations

import json

import msgspec

from .. import resources, yamlout
from ..tables import API, FORKLIFT_KINDS, KINDS

GROUP = "forklift.konveyor.io"


def scripts() -> dict[str, str]:
    """Kind -> the Lua script Argo CD runs for it."""
    folder = resources.templates_dir() / "health"
    prelude = (folder / "prelude.lua").read_text(encoding="utf-8")
    out = {}
    for k in KINDS.values():
        if k.health:
            body = (folder / k.health).read_text(encoding="utf-8")
            out[k.kind] = prelude + "\n" + body if k.kind in FORKLIFT_KINDS else body
    return out


def _group(kind: str) -> str:
    return KINDS[kind].api_version.split("/")[0]


def argocd_cm() -> str:
    """A patch for the argocd-cm ConfigMap (upstream Argo CD): `kubectl patch cm argocd-cm -n argocd --patch-file`."""
    data = {f"resource.customizations.health.{_group(kind)}_{kind}": text for kind, text in scripts().items()}
    return yamlout.dump({"data": data})


def openshift_gitops() -> str:
    """A JSON Patch for the OpenShift GitOps `ArgoCD` resource that appends to
    spec.resourceHealthChecks. A merge patch would replace the whole list and
    drop the checks already there."""
    ops = [{"op": "add", "path": "/spec/resourceHealthChecks/-",
            "value": {"group": _group(kind), "kind": kind, "check": text}} for kind, text in scripts().items()]
    return json.dumps(ops, indent=2) + "\n"


def openshift_gitops_merged(current: dict) -> str:
    """A merge patch for an `ArgoCD` resource as it is now (`oc get argocd NAME -o json`):
    its spec.resourceHealthChecks with mtvgen's entries replaced, or added, and every
    other entry kept. Applying it twice changes nothing, and a resource without the list
    gets one (the appending JSON Patch fails there, and doubles entries when run twice)."""
    ours = [{"group": _group(kind), "kind": kind, "check": text} for kind, text in scripts().items()]
    mine = {(c["group"], c["kind"]) for c in ours}
    existing = ((current.get("spec") or {}).get("resourceHealthChecks") or []) if isinstance(current, dict) else []
    kept = [c for c in existing if not (isinstance(c, dict) and (c.get("group"), c.get("kind")) in mine)]
    return json.dumps({"spec": {"resourceHealthChecks": kept + ours}}, indent=2) + "\n"


FORMATS = {"argocd-cm": argocd_cm, "openshift-gitops": openshift_gitops}


# ------------------------------------------------------------------ Flux CEL

def _true(*types: str) -> str:
    listed = ", ".join(f"'{t}'" for t in types)
    return f"has(status.conditions) && status.conditions.exists(c, c.status == 'True' && c.type in [{listed}])"


# Critical and Error conditions block a Forklift object (pkg/lib/condition/condition.go)
_BLOCKED = "has(status.conditions) && status.conditions.exists(c, c.status == 'True' && c.category in ['Critical', 'Error'])"

# Flux evaluates inProgress, then failed, then current; none true = in progress. It
# first answers "in progress" by itself while status.observedGeneration != generation.
CEL: dict[str, dict[str, str]] = {
    "Provider": {"failed": f"{_true('ConnectionAuthFailed', 'ConnectionTestFailed', 'InventoryError')} || {_BLOCKED}",
                 "current": f"{_true('Ready')} && has(status.phase) && status.phase == 'Ready'"},
    "Host": {"inProgress": _true("InMaintenance"), "failed": _BLOCKED, "current": _true("Ready")},
    "NetworkMap": {"failed": _BLOCKED, "current": _true("Ready")},
    "StorageMap": {"failed": _BLOCKED, "current": _true("Ready")},
    "Hook": {"failed": _BLOCKED, "current": _true("Ready")},
    # a plan that can run is current, whatever its last run did (the run Kustomization depends on it)
    "Plan": {"failed": _BLOCKED, "current": _true("Ready", "Executing", "Succeeded", "Failed", "Canceled", "Archived")},
    "Migration": {"failed": f"{_true('Failed')} || {_BLOCKED}", "current": _true("Succeeded", "Canceled")},
}


def health_check_exprs(kinds) -> list[dict]:
    """Kustomization.spec.healthCheckExprs entries for the Forklift kinds given."""
    out = []
    for kind in kinds:
        if kind in CEL:
            e = CEL[kind]
            out.append({"apiVersion": API, "kind": kind, **{k: e[k] for k in ("inProgress", "failed", "current") if k in e}})
    return out


# ------------------------------------------------------------------ semantics

class Case(msgspec.Struct, frozen=True):
    kind: str
    situation: str
    fixture: str        # tests/status_fixtures.py FIXTURES key
    argocd: str         # Argo CD status
    words: str          # in the Argo CD message
    flux: str           # Current | InProgress | Failed
    why: str


SEMANTICS: tuple[Case, ...] = (
    Case("Provider", "just created, no status yet", "provider-new", "Progressing", "Connecting", "InProgress",
         "no status yet: Flux keeps waiting (an expression that cannot be evaluated counts as not ready)"),
    Case("Provider", "Ready, connected, inventory loaded", "provider-ready", "Healthy", "Ready", "Current", ""),
    Case("Provider", "credentials rejected", "provider-auth-failed", "Degraded", "ConnectionAuthFailed", "Failed",
         "Forklift stops retrying until the Secret changes"),
    Case("Provider", "spec changed, not yet observed", "provider-edited", "Progressing", "observe", "InProgress", ""),
    Case("Host", "Ready", "host-ready", "Healthy", "Ready", "Current", ""),
    Case("Host", "ESXi host in maintenance", "host-maintenance", "Suspended", "skip this host", "InProgress",
         "plans skip a Host that is not Ready; Hosts are their own unit and gate nothing"),
    Case("Host", "transfer IP not valid", "host-bad-ip", "Degraded", "IpNotValid", "Failed", ""),
    Case("NetworkMap", "Ready although a source is NotFound (a warning upstream)", "networkmap-ready", "Healthy",
         "Ready", "Current", ""),
    Case("StorageMap", "storage class missing on the destination", "storagemap-class-missing", "Degraded",
         "DestinationStorageNotValid", "Failed", ""),
    Case("Hook", "Ready", "hook-ready", "Healthy", "Ready", "Current", ""),
    Case("Plan", "being validated (VDDK validation job running)", "plan-validating", "Progressing", "validation",
         "InProgress", ""),
    Case("Plan", "Ready", "plan-ready", "Healthy", "Ready", "Current", ""),
    Case("Plan", "blocked: a warm VM has a snapshot", "plan-blocked", "Degraded", "VMHasSnapshots", "Failed",
         "its own Migration could not run either; the fix is a spec or source change"),
    Case("Plan", "executing", "plan-executing", "Healthy", "Executing: 20/50 succeeded", "Current", ""),
    Case("Plan", "last run failed for 3 of 50 VMs", "plan-failed", "Healthy", "Last run failed: 47/50 succeeded, 3 failed",
         "Current", "the plan can run again: the retry Migration must not wait behind it"),
    Case("Plan", "last run canceled", "plan-canceled", "Healthy", "Last run canceled", "Current",
         "as above: a canceled plan is Suspended nowhere, or the next attempt would wait forever"),
    Case("Plan", "succeeded, 3 of 50 VMs canceled", "plan-succeeded-canceled", "Healthy",
         "Succeeded: 47/50 succeeded, 3 canceled", "Current", ""),
    Case("Plan", "succeeded, then edited", "plan-succeeded-edited", "Degraded", "never reconciled again", "InProgress",
         "the controller will never apply the edit; Flux only sees generation != observedGeneration"),
    Case("Plan", "archived", "plan-archived", "Healthy", "Archived", "Current", ""),
    Case("Migration", "just created, no status yet", "migration-new", "Progressing", "migration controller", "InProgress",
         "as for a new Provider"),
    Case("Migration", "blocked by its plan (PlanNotReady)", "migration-plan-not-ready", "Degraded", "Blocked: PlanNotReady",
         "Failed", ""),
    Case("Migration", "never started: its plan already Succeeded", "migration-not-started", "Suspended", "Not started",
         "InProgress", "the plan controller ignores it; start VMs that are left in a new plan"),
    Case("Migration", "cold run copying disks", "migration-running", "Progressing", "Running: 1/3 succeeded", "InProgress", ""),
    Case("Migration", "warm run, no cutover, VMs copying, paused and queued", "migration-warm-no-cutover", "Suspended",
         "no cutover set: 1 between precopies, 1 copying, 1 queued", "InProgress",
         "a precopy in flight does not change it: nothing finishes until a cutover is set"),
    Case("Migration", "warm run with a cutover set", "migration-warm-cutover", "Progressing", "Running", "InProgress", ""),
    Case("Migration", "failed for 3 of 50 VMs", "migration-failed", "Degraded", "Failed: 47/50 succeeded, 3 failed",
         "Failed", "it is the last wave of its unit: nothing waits on it"),
    Case("Migration", "succeeded, 3 of 50 VMs canceled", "migration-succeeded-canceled", "Healthy",
         "Succeeded: 47/50 succeeded, 3 canceled", "Current", ""),
    Case("Migration", "canceled", "migration-canceled", "Suspended", "Canceled: 0/2 succeeded, 2 canceled", "Current",
         "a deliberate stop; a new start.attempt runs the VMs again"),
)


def semantics_markdown() -> str:
    rows = ["| kind | situation | Argo CD | message says | Flux | why |", "|---|---|---|---|---|---|"]
    for c in SEMANTICS:
        rows.append(f"| {c.kind} | {c.situation} | {c.argocd} | {c.words} | {c.flux} | {c.why or '—'} |")
    return "\n".join(rows) + "\n"
