"""Forklift objects with status, in the shapes the controllers write them.

Every builder mirrors a Go struct of kubev2v/forklift at d42511bb28a605af9303b097333baa61d6c74a00
and its JSON tags (omitempty fields left out when empty, untagged fields under
their Go names, nil slices written as null). The file each one mirrors is named
above it. tests/health_oracle.py gives the verdict expected of each fixture.
"""

from __future__ import annotations

import copy

T0 = "2026-11-28T08:00:00Z"
API = "forklift.konveyor.io/v1beta1"
NS = "openshift-mtv"


# pkg/lib/condition/condition.go: Condition{Type, Status, Reason omitempty, Category,
# Message omitempty, Suggestion omitempty, LastTransitionTime, Durable omitempty, Items omitempty}
def cond(type_, category="Required", status="True", message="", reason="", durable=False, items=None) -> dict:
    c = {"type": type_, "status": status}
    if reason:
        c["reason"] = reason
    c["category"] = category
    if message:
        c["message"] = message
    c["lastTransitionTime"] = T0
    if durable:
        c["durable"] = True
    if items:
        c["items"] = items
    return c


# pkg/apis/forklift/v1beta1/plan/migration.go Task/Step: Timed inline (started, completed
# omitempty), name, description omitempty, phase omitempty, reason omitempty, progress
# (pkg/lib/itinerary Progress{completed, total}, not omitempty), annotations omitempty,
# error omitempty, tasks omitempty
def step(name, phase, done=0, total=1, started=True, completed=False, annotations=None) -> dict:
    s = {}
    if started:
        s["started"] = T0
    if completed:
        s["completed"] = T0
    s.update({"name": name, "description": name, "phase": phase, "progress": {"completed": done, "total": total}})
    if annotations:
        s["annotations"] = annotations
    return s


# pkg/apis/forklift/v1beta1/plan/vm.go VMStatus: Timed inline, VM inline (ref.Ref id/name
# omitempty; luks core.ObjectReference without omitempty, so `{}`), pipeline (no omitempty:
# null when unset), phase (no omitempty), error omitempty {phase, reasons}, warm omitempty,
# conditions inline omitempty
def vm(i: int, phase: str, outcome: str = "", started=True, warm=None, reason="") -> dict:
    v = {}
    if started:
        v["started"] = T0
    if outcome:
        v["completed"] = T0
    v.update({"id": f"vm-{1000 + i}", "name": f"app-{i:02d}", "luks": {}})
    if started:
        v["pipeline"] = [step("Initialize", "Completed", completed=True),
                         step("DiskTransfer", "Completed" if outcome else "Running", done=10240 if outcome else 4096,
                              total=10240, completed=bool(outcome), annotations={"unit": "MB"})]
    else:
        v["pipeline"] = None
    # pkg/controller/plan/migration.go (d42511b) execute(): a canceled VM (:856) and a failed
    # one (:1836) end in phase Completed like a succeeded one; the outcome is the condition,
    # and a failure keeps the phase it failed in under error.phase
    v["phase"] = "Completed" if outcome else phase
    if outcome == "Failed":
        v["error"] = {"phase": phase, "reasons": [reason or "Import DataVolume failed: source disk unreadable"]}
    if warm is not None:
        v["warm"] = warm
    if outcome:
        v["conditions"] = [cond(outcome, "Advisory", durable=True, **OUTCOME_WORDS[outcome])]
    elif not started:
        # markSchedulerQueuedVMs (:1876-1893): a VM over the in-flight limit is Pending
        v["conditions"] = [cond("Pending", "Advisory", durable=True,
                                message="Waiting to start migration: in-flight limit reached (max 20).")]
    return v


# the reason and message execute() writes with each outcome condition
OUTCOME_WORDS = {"Succeeded": {"message": "The VM migration has SUCCEEDED."},
                 "Failed": {"message": "The VM migration has FAILED."},
                 "Canceled": {"reason": "UserRequested", "message": "The migration has been canceled."}}


# plan/vm.go Warm{successes, failures, consecutiveFailures, nextPrecopyAt omitempty, precopies omitempty}
WARM = {"successes": 3, "failures": 0, "consecutiveFailures": 0, "nextPrecopyAt": "2026-11-28T09:00:00Z",
        "precopies": [{"start": T0, "end": T0, "snapshot": "snapshot-41", "deltas": [{"disk": "[ds] a/a.vmdk",
                                                                                      "deltaId": "52 1a"}]}]}


def run_vms(succeeded=0, failed=0, canceled=0, running=0) -> list[dict]:
    vms, i = [], 0
    for outcome, n in (("Succeeded", succeeded), ("Failed", failed), ("Canceled", canceled), ("", running)):
        for _ in range(n):
            vms.append(vm(i, "CopyDisks", outcome))
            i += 1
    return vms


def _obj(kind, spec, status, generation=1) -> dict:
    o = {"apiVersion": API, "kind": kind,
         "metadata": {"name": f"dc1-{kind.lower()}", "namespace": NS, "uid": "5f0c1d2e-0000-4000-8000-000000000001",
                      "generation": generation, "creationTimestamp": T0},
         "spec": spec}
    if status is not None:
        o["status"] = status
    return o


# pkg/apis/forklift/v1beta1/provider.go ProviderStatus: phase omitempty, conditions inline,
# observedGeneration omitempty, fingerprint omitempty
def provider(conds=None, phase="", observed=1, generation=1, status=True) -> dict:
    st = None
    if status:
        st = {}
        if phase:
            st["phase"] = phase
        if conds:
            st["conditions"] = conds
        st["observedGeneration"] = observed
    return _obj("Provider", {"type": "vsphere", "url": "https://vcenter/sdk",
                             "secret": {"name": "vc", "namespace": NS}}, st, generation)


# pkg/apis/forklift/v1beta1/host.go HostStatus: conditions inline, observedGeneration omitempty
def ready_kind(kind, conds, observed=1) -> dict:
    return _obj(kind, {}, {"conditions": conds, "observedGeneration": observed})


# pkg/apis/forklift/v1beta1/plan.go PlanStatus: conditions inline, observedGeneration omitempty,
# migration (a struct: `omitempty` does not drop it, so `{}` at least; plan/migration.go
# MigrationStatus: Timed inline, history omitempty, vms omitempty)
def plan(conds, vms=None, generation=1, observed=1, archived=False) -> dict:
    migration = {}
    if vms is not None:
        migration = {"started": T0, "history": [_snapshot(conds)], "vms": vms}
    spec = {"targetNamespace": "dc1-apps", "vms": [{"id": "vm-1000", "name": "app-00"}]}
    if archived:
        spec["archived"] = True
    return _obj("Plan", spec, {"conditions": conds, "observedGeneration": observed, "migration": migration}, generation)


# plan/snapshot.go Snapshot: conditions inline, provider{source,destination}, plan, map{network,storage},
# migration; each SnapshotRef{namespace, name, uid, generation} (no omitempty)
def _snapshot(conds) -> dict:
    ref = {"namespace": NS, "name": "x", "uid": "5f0c1d2e-0000-4000-8000-000000000002", "generation": 1}
    return {"conditions": [c for c in conds if c["type"] in ("Executing", "Succeeded", "Failed", "Canceled")],
            "provider": {"source": ref, "destination": ref}, "plan": ref, "map": {"network": ref, "storage": ref},
            "migration": ref}


# pkg/apis/forklift/v1beta1/migration.go: MigrationSpec{plan, cancel omitempty, cutover omitempty,
# vmCutover omitempty, resumeConversion omitempty}; MigrationStatus{Timed inline, conditions inline,
# observedGeneration omitempty, vms omitempty}
def migration(conds=None, vms=None, cutover="", vm_cutover=None, status=True, started=False) -> dict:
    spec = {"plan": {"name": "dc1-plan", "namespace": NS}}
    if cutover:
        spec["cutover"] = cutover
    if vm_cutover:
        spec["vmCutover"] = vm_cutover
    st = None
    if status:
        st = {}
        if started:
            st["started"] = T0
        if conds:
            st["conditions"] = conds
        st["observedGeneration"] = 1
        if vms:
            st["vms"] = vms
    return _obj("Migration", spec, st)


READY = cond("Ready", message="The migration plan is ready.")
RUNNING = cond("Running", "Advisory", message="The migration is RUNNING.")


def _warm_vms() -> list[dict]:
    paused = vm(0, "CopyingPaused", warm=copy.deepcopy(WARM))
    copying = vm(1, "CopyDisks", warm=copy.deepcopy(WARM))       # a precopy in flight
    queued = vm(2, "Started", started=False)                      # over the in-flight limit
    return [paused, copying, queued]


FIXTURES: dict[str, dict] = {
    "provider-new": provider(status=False),
    "provider-ready": provider([cond("ConnectionTestSucceeded"), cond("InventoryCreated"), cond("Validated"),
                                READY], phase="Ready"),
    "provider-auth-failed": provider([cond("ConnectionAuthFailed", "Critical", message="Authentication failed (401).",
                                           reason="Unauthorized")], phase="ConnectionFailed"),
    "provider-edited": provider([READY], phase="Ready", observed=1, generation=2),
    "host-ready": ready_kind("Host", [cond("Validated"), cond("ConnectionTestSucceeded"), READY]),
    "host-maintenance": ready_kind("Host", [cond("Validated"), cond("InMaintenance", "Critical",
                                                                    message="Host is in maintenance mode.")]),
    "host-bad-ip": ready_kind("Host", [cond("IpNotValid", "Critical", reason="NotValid",
                                            message="IP address not found on the host.")]),
    "networkmap-ready": ready_kind("NetworkMap", [cond("SourceNetworkNotValid", "Warn", reason="NotFound",
                                                       message="Source network not found.", items=["network-9"]),
                                                  READY]),
    "storagemap-class-missing": ready_kind("StorageMap", [cond("DestinationStorageNotValid", "Critical", reason="NotFound",
                                                               message="Destination storage class not found.",
                                                               items=["gold"])]),
    "hook-ready": ready_kind("Hook", [READY]),
    "plan-validating": plan([cond("ValidatingVDDK", "Advisory", message="Validating VDDK init image.")]),
    "plan-ready": plan([READY]),
    "plan-blocked": plan([cond("VMHasSnapshots", "Critical", reason="NotSupported",
                               message="VMs have pre-existing snapshots.", items=["id:vm-1000 name:'app-00'"])]),
    "plan-executing": plan([READY, cond("Executing", "Advisory", message="The plan is EXECUTING.")],
                           vms=run_vms(succeeded=20, running=30)),
    "plan-failed": plan([READY, cond("Failed", "Advisory", message="The plan execution has FAILED.", durable=True)],
                        vms=run_vms(succeeded=47, failed=3)),
    "plan-canceled": plan([READY, cond("Canceled", "Advisory", message="The plan execution has been CANCELED.",
                                       durable=True)], vms=run_vms(canceled=2)),
    "plan-succeeded-canceled": plan([cond("Succeeded", "Advisory", message="The plan execution has SUCCEEDED.",
                                          durable=True)], vms=run_vms(succeeded=47, canceled=3)),
    "plan-succeeded-edited": plan([cond("Succeeded", "Advisory", durable=True)], vms=run_vms(succeeded=5),
                                  generation=5, observed=3),
    "plan-archived": plan([cond("Archived", "Advisory", message="The migration plan has been archived.", durable=True)],
                          archived=True),
    "migration-new": migration(status=False),
    "migration-plan-not-ready": migration([cond("PlanNotReady", "Critical", reason="NotFound",
                                                message="Plan is not READY.")]),
    "migration-not-started": migration([cond("Ready", message="The migration is ready.")]),
    "migration-running": migration([cond("Ready"), RUNNING], vms=run_vms(succeeded=1, running=2), started=True),
    "migration-warm-no-cutover": migration([cond("Ready"), RUNNING], vms=_warm_vms(), started=True),
    "migration-warm-cutover": migration([cond("Ready"), RUNNING], vms=_warm_vms(), started=True,
                                        cutover="2026-12-05T21:00:00Z"),
    "migration-failed": migration([cond("Ready"), cond("Failed", "Advisory", message="The migration has FAILED.",
                                                       durable=True)], vms=run_vms(succeeded=47, failed=3), started=True),
    "migration-succeeded-canceled": migration([cond("Ready"), cond("Succeeded", "Advisory", durable=True)],
                                              vms=run_vms(succeeded=47, canceled=3), started=True),
    "migration-canceled": migration([cond("Ready"), cond("Canceled", "Advisory", durable=True)],
                                    vms=run_vms(canceled=2), started=True),
}


def a_run(vms: list[tuple[str, str]], running: int = 0) -> tuple[dict, dict]:
    """The status a Plan and its Migration carry for a run of `vms` (id, name): the last
    `running` still copying (phase CopyDisks), the others succeeded, each 8,590 MB copied
    in 4 minutes (DiskTransfer) and converted in 6 (plan/migrator/base/migrator.go :174
    names the conversion step ImageConversion). Returns (Plan status, Migration status)."""
    out = []
    for n, (vm_id, name) in enumerate(vms):
        if n >= len(vms) - running:
            v = vm(n, "CopyDisks")
            v.update(id=vm_id, name=name, started="2026-12-05T22:30:00Z")
            out.append(v)
            continue
        v = vm(n, "Completed", "Succeeded")
        v.update(id=vm_id, name=name, started="2026-12-05T20:05:00Z", completed="2026-12-05T20:30:00Z")
        v["pipeline"][1].update(started="2026-12-05T20:05:00Z", completed="2026-12-05T20:09:00Z",
                                progress={"completed": 8590, "total": 8590})
        v["pipeline"].append({"name": "ImageConversion", "description": "Convert image to kubevirt.",
                              "phase": "Completed", "started": "2026-12-05T20:09:00Z",
                              "completed": "2026-12-05T20:15:00Z", "progress": {"completed": 1, "total": 1}})
        out.append(v)
    if running:
        p = plan([READY, cond("Executing", "Advisory", message="The plan is EXECUTING.")], vms=copy.deepcopy(out))
        m = migration([cond("Ready"), RUNNING], vms=out, started=True)
    else:
        p = plan([cond("Succeeded", "Advisory", message="The plan execution has SUCCEEDED.", durable=True)],
                 vms=copy.deepcopy(out))
        m = migration([cond("Ready"), cond("Succeeded", "Advisory", durable=True)], vms=out, started=True)
    return p["status"], m["status"]
