"""The health verdicts, written down from upstream facts: the oracle the Lua and
CEL are tested against. It is kept apart from compiler/delivery/health.SEMANTICS
(which generates the README table) on purpose: changing a rule and its table row
together must still fail here until this file is changed too, with a reason.

One row a status fixture (tests/status_fixtures.py): (Argo CD status, words in
its message, Flux status, the fact it rests on). Facts from kubev2v/forklift
d42511b (pkg/lib/condition: Critical/Error block; pkg/controller/plan/migration.go
end(); pkg/controller/migration reflectPlan), Argo CD's health statuses (Suspended
is a wait that needs a person, never a failure) and Flux's kstatus order
(fluxcd/pkg runtime/cel/status_evaluator.go: inProgress, failed, current)."""

EXPECTED = {
    "provider-new": ("Progressing", "Connecting", "InProgress", "no status yet: the controller has not tested it"),
    "provider-ready": ("Healthy", "Ready", "Current", "Ready condition and phase Ready"),
    "provider-auth-failed": ("Degraded", "ConnectionAuthFailed", "Failed", "a Critical condition blocks the provider"),
    "provider-edited": ("Progressing", "observe", "InProgress", "observedGeneration behind generation: not judged yet"),
    "host-ready": ("Healthy", "Ready", "Current", "Ready"),
    "host-maintenance": ("Suspended", "skip this host", "InProgress", "a host in maintenance waits for a person"),
    "host-bad-ip": ("Degraded", "IpNotValid", "Failed", "Critical IpNotValid blocks the host"),
    "networkmap-ready": ("Healthy", "Ready", "Current", "a Warn condition does not block"),
    "storagemap-class-missing": ("Degraded", "DestinationStorageNotValid", "Failed", "Critical blocks the map"),
    "hook-ready": ("Healthy", "Ready", "Current", "Ready"),
    "plan-validating": ("Progressing", "validation", "InProgress", "not Ready yet, nothing blocks"),
    "plan-ready": ("Healthy", "Ready", "Current", "Ready"),
    "plan-blocked": ("Degraded", "VMHasSnapshots", "Failed", "Critical VMHasSnapshots blocks the plan"),
    # a Plan gates the Migration after it: a run's outcome must never hold that gate
    "plan-executing": ("Healthy", "Executing: 20/50 succeeded", "Current", "the run is the Migration's to report"),
    "plan-failed": ("Healthy", "Last run failed: 47/50 succeeded, 3 failed", "Current",
                    "a failed run must not block the retry Migration behind the Plan"),
    "plan-canceled": ("Healthy", "Last run canceled", "Current", "as a failed run"),
    "plan-succeeded-canceled": ("Healthy", "Succeeded: 47/50 succeeded, 3 canceled", "Current",
                                "Succeeded is durable; canceled VMs are the operator's choice"),
    "plan-succeeded-edited": ("Degraded", "never reconciled again", "InProgress",
                              "a Succeeded plan is not reconciled again, so its new generation is never observed"),
    "plan-archived": ("Healthy", "Archived", "Current", "Archived is an end state"),
    "migration-new": ("Progressing", "migration controller", "InProgress", "no status yet"),
    "migration-plan-not-ready": ("Degraded", "Blocked: PlanNotReady", "Failed", "Critical PlanNotReady blocks the run"),
    "migration-not-started": ("Suspended", "Not started", "InProgress", "Ready but not started: waits for its start"),
    "migration-running": ("Progressing", "Running: 1/3 succeeded", "InProgress", "Running"),
    "migration-warm-no-cutover": ("Suspended", "no cutover set: 1 between precopies, 1 copying, 1 queued",
                                  "InProgress", "a warm run without a cutover waits for a person's cutover"),
    "migration-warm-cutover": ("Progressing", "Running", "InProgress", "a cutover is set: the run goes on by itself"),
    "migration-failed": ("Degraded", "Failed: 47/50 succeeded, 3 failed", "Failed", "the run ended Failed"),
    "migration-succeeded-canceled": ("Healthy", "Succeeded: 47/50 succeeded, 3 canceled", "Current",
                                     "Succeeded, with VMs the operator canceled"),
    "migration-canceled": ("Suspended", "Canceled: 0/2 succeeded, 2 canceled", "Current",
                           "a canceled run ended by a person's choice: nothing to wait for (Flux), "
                           "but no success either (Argo CD)"),
}
