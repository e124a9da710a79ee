"""Every check, triggered from a spec + inventory, with its code, location and
message; and the unchanged base site is clean."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from pathlib import Path

import pytest

from compiler import check, diagnostics, lock as lockmod, spec
import sitekit
from sitekit import BASE_SPEC, vm

NOW = datetime(2026, 11, 27, tzinfo=timezone.utc)


def diagnose(tmp_path, spec_text=BASE_SPEC, inv=None, files=None):
    """Lock-time diagnostics if locking fails, else the build checks."""
    d = sitekit.make(tmp_path, spec_text, inv, files=files)
    from compiler.errors import DiagnosticsFailed
    try:
        site, lock_diags = sitekit.lock(d)
    except DiagnosticsFailed as exc:
        return exc.diagnostics
    site = spec.load(d)
    return lock_diags + check.run(site, lockmod.read(site), now=NOW)


def line(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


def test_base_site_is_clean(tmp_path):
    assert [str(d) for d in diagnose(tmp_path) if d.level != diagnostics.INFO] == []


def _inv(**vm_changes):
    inv = sitekit.inventory()
    inv["vms"][0].update(vm_changes)
    return inv


def _disk(**kw):
    d = {"key": 2000, "datastore": {"kind": "Datastore", "id": "datastore-1"}, "capacity": 1 << 30,
         "changeTrackingEnabled": True, "mode": "persistent"}
    d.update(kw)
    return [d]


HOST_SPEC = BASE_SPEC.replace("    secret: vc-creds",
                              "    secret: vc-creds\n  hosts:\n    - name: esx1\n      reuseProviderCredentials: true")
WARM = BASE_SPEC.replace("    preHook: prep", "    preHook: prep\n    type: warm")
SEL = "      - folder: /DC/vm/prod"

# code, spec text, inventory, needle in the spec for the expected line (None: any), words in the message
CASES = [
    ("MTV010", BASE_SPEC.replace(SEL, SEL + "\n      - name: alpah"), None, "name: alpah", "closest: 'alpha'"),
    ("MTV011", BASE_SPEC.replace(SEL, SEL + "\n      - glob: 'zz*'"), None, "glob: 'zz*'", "matches no VM"),
    ("MTV012", BASE_SPEC.replace(SEL, "      - name: alpha"),
     sitekit.inventory(vms=[vm("vm-1", "alpha"), vm("vm-9", "alpha", folder="/DC/vm/other")]), "name: alpha",
     "/DC/vm/other/alpha (vm-9)"),
    ("MTV013", BASE_SPEC.replace(SEL, "      - name: alpha\n      - id: vm-1"), None, "id: vm-1", "also selected"),
    ("MTV014", BASE_SPEC + "  - name: wave2\n    select:\n      - name: alpha\n", None, "- name: wave2",
     "selected by plans 'wave1' and 'wave2'"),
    ("MTV015", BASE_SPEC.replace(SEL, SEL + "\n    exclude:\n      - folder: /DC/vm"), None, "- name: wave1",
     "selects no VM"),
    ("MTV016", BASE_SPEC + "    vms:\n      - match: gamma\n        targetName: g\n", None, "match: gamma",
     "no VM of the plan"),
    ("MTV017", BASE_SPEC.replace("source: App", "source: Ap"), None, "source: Ap", "closest: 'App'"),
    ("MTV018", BASE_SPEC.replace(SEL, "      - name: alpha"), _inv(isTemplate=True), "name: alpha", "template"),
    ("MTV019", BASE_SPEC, sitekit.inventory(vms=[vm(f"vm-{i}", f"app{i}") for i in range(501)]), "- name: wave1",
     "plan 'wave1' holds 501 VMs"),
    ("MTV020", BASE_SPEC + "    vms:\n      - match: beta\n        targetName: alpha\n", None, "match: beta",
     "VM 'beta' (vm-2): becomes 'alpha' in namespace apps, as VM 'alpha' (vm-1) of plan 'wave1' does"),
    ("MTV021", BASE_SPEC + "    vms:\n      - match: beta\n        targetName: Beta_1\n", None, "match: beta",
     "'Beta_1' is not a DNS-1123"),
    ("MTV022", BASE_SPEC, _inv(name="Alpha 1", path="/DC/vm/prod/Alpha 1"), "- name: wave1", "'alpha-1'"),
    ("MTV023", BASE_SPEC.replace("name: wave1", "name: " + "w" * 62), None, "- name: www", "longer than 63"),
    ("MTV024", BASE_SPEC.replace("    preHook: prep", "    preHook: prep\n    serviceAccount: Bad_SA"), None,
     "serviceAccount", "'Bad_SA'"),
    ("MTV025", BASE_SPEC.replace("    preHook: prep", "    preHook: prep\n    pvcNameTemplate: '{{.VMName}}-d'"),
     None, "pvcNameTemplate", ".VMName"),
    ("MTV030", BASE_SPEC.replace("  - source: App\n    target: ignored\n", ""), None, "- name: wave1",
     "network 'App' (dvportgroup-2) is not mapped"),
    ("MTV031", BASE_SPEC, _inv(disks=_disk(datastore={"kind": "Datastore", "id": "datastore-2"})), "- name: wave1",
     "'ds2' (datastore-2), which is not mapped"),
    ("MTV032", BASE_SPEC.replace("target: app-net", "target: pod").replace("target: ignored", "target: pod"),
     None, "- name: wave1", "2 NICs map to the pod network"),
    ("MTV033", BASE_SPEC.replace("target: app-net", "target: other/app-net"), None, "source: VM Network",
     "outside target namespace apps"),
    ("MTV034", BASE_SPEC.replace("  - source: App\n", "  - source: Switch\n    target: ignored\n  - source: App\n"),
     None, "source: Switch", "distributed switch"),
    ("MTV035", BASE_SPEC.replace("storage:\n", "storage:\n  - source: ds2\n    storageClass: x\n"), None,
     "source: ds2", "used by no selected VM"),
    ("MTV036", BASE_SPEC.replace("target: app-net", "target: pod"), None, "- name: wave1",
     "plan 'wave1': 2 VM(s) land on the pod network while preserveStaticIPs is true: Forklift's default"),
    ("MTV037", BASE_SPEC.replace("    preHook: prep", "    preHook: prep\n    transferNetwork: other/tn"), None,
     "transferNetwork", "outside apps"),
    ("MTV040", BASE_SPEC.replace("    preHook: prep", "    preHook: prep\n    type: live"), None, "type: live",
     "not 'live'"),
    ("MTV041", WARM, _inv(changeTrackingEnabled=False), "- name: wave1", "changed block tracking is off"),
    ("MTV042", WARM, _inv(disks=_disk(changeTrackingEnabled=False)), "- name: wave1", "disks without CBT: 2000"),
    ("MTV043", WARM, _inv(snapshot={"kind": "VirtualMachineSnapshot", "id": "snapshot-1"}), "- name: wave1",
     "has snapshots"),
    ("MTV044", WARM.replace("  vddkImage: quay.io/example/vddk:8\n", ""), None, "type: warm", "no vddkImage"),
    ("MTV050", BASE_SPEC.replace("    preHook: prep\n", ""), None, "- name: prep", "used by no VM"),
    ("MTV051", BASE_SPEC.replace("    image: quay.io/konveyor/hook-runner", "    image: x\n    playbook: pb.yml"),
     None, "- name: prep", "not a YAML list of plays"),
    ("MTV052", BASE_SPEC.replace("    image: quay.io/konveyor/hook-runner", "    playbook: ok.yml"), None,
     "- name: prep", "no image"),
    ("MTV006", BASE_SPEC.replace("    image: quay.io/konveyor/hook-runner", "    image: x\n    playbook: nope.yml"),
     None, "playbook: nope.yml", "cannot read playbook"),
    ("MTV066", HOST_SPEC,
     dict(sitekit.inventory(), hosts=[dict(sitekit.BASE_INVENTORY["hosts"][0],
                                           networkAdapters=[{"ipAddress": "10.0.0.1"}, {"ipAddress": "10.0.1.1"}])]),
     "- name: esx1", "2 IP addresses (10.0.0.1, 10.0.1.1)"),
    ("MTV067", HOST_SPEC,
     dict(sitekit.inventory(), hosts=[dict(sitekit.BASE_INVENTORY["hosts"][0], inMaintenance=True)]),
     "- name: esx1", "maintenance"),
    ("MTV070", BASE_SPEC, _inv(disks=_disk(datastore=None)), "- name: wave1", "disk 2000 has no datastore"),
    ("MTV071", BASE_SPEC, _inv(disks=_disk(capacity=0)), "- name: wave1", "capacity 0"),
    ("MTV072", BASE_SPEC, _inv(devices=[{"kind": "VirtualPCIPassthrough"}]), "- name: wave1", "PCI passthrough"),
    ("MTV073", BASE_SPEC, _inv(concerns=[{"category": "Critical", "label": "Illegal disk"}]), "- name: wave1",
     "Illegal disk"),
    ("MTV074", BASE_SPEC, _inv(disks=_disk(shared=True)), "- name: wave1", "shared disk"),
    ("MTV075", BASE_SPEC, _inv(disks=_disk(rdm=True)), "- name: wave1", "RDM disk"),
    ("MTV076", BASE_SPEC, _inv(disks=_disk(mode="independent_persistent")), "- name: wave1", "independent"),
    ("MTV077", BASE_SPEC, _inv(cpuHotAddEnabled=True), "- name: wave1", "hot plug"),
    ("MTV078", BASE_SPEC, _inv(tpmEnabled=True), "- name: wave1", "TPM"),
    ("MTV079", BASE_SPEC, _inv(devices=[{"kind": "VirtualUSBController"}]), "- name: wave1", "USB"),
    ("MTV080", BASE_SPEC, _inv(devices=[{"kind": "VirtualSriovEthernetCard"}]), "- name: wave1", "SR-IOV"),
    ("MTV081", BASE_SPEC, _inv(guestId="freebsd12_64Guest"), "- name: wave1", "freebsd12_64Guest"),
    ("MTV082", BASE_SPEC, _inv(powerState="poweredOn", toolsStatus="toolsOk"), "- name: wave1", "no guest IP"),
    ("MTV083", BASE_SPEC, _inv(powerState="poweredOn", ipAddress="10.1.1.1", toolsStatus="toolsNotRunning"),
     "- name: wave1", "toolsNotRunning"),
    ("MTV095", WARM + "    start:\n      cutover: '2026-01-01T00:00:00+00:00'\n", None, "start:",
     "was already past when the attempt was pinned"),
    ("MTV091", BASE_SPEC + "    start:\n      cutover: '2027-01-01T00:00:00+00:00'\n", None, "start:",
     "cutover applies to warm plans only"),
    ("MTV092", WARM + "    start: true\n", None, "start: true", "without a cutover"),
    ("MTV094", WARM + "    start:\n      cutover: 'next friday'\n", None, "start:", "'next friday'"),
]


# Which VM each check must flag (every other VM of the plan must not be flagged): the
# VM-level cases change the inventory of alpha only, so beta is their negative control.
FLAGGED_VM = {"MTV013": "vm-1", "MTV014": "vm-1", "MTV018": "vm-1", "MTV020": "beta", "MTV021": "beta",
              "MTV022": "Alpha 1", "MTV032": "beta", "MTV030": "beta"}
VM_LEVEL = {"MTV031", "MTV041", "MTV042", "MTV043", "MTV070", "MTV071", "MTV072", "MTV073", "MTV074", "MTV075",
            "MTV076", "MTV077", "MTV078", "MTV079", "MTV080", "MTV081", "MTV082", "MTV083"}


@pytest.mark.parametrize("code,spec_text,inv,needle,words", CASES, ids=[c[0] for c in CASES])
def test_check_triggers(tmp_path, code, spec_text, inv, needle, words):
    """Exactly the expected (code, VM, line), nothing more: a check that fires for the
    wrong VM, or also for a VM it must leave alone, fails here."""
    files = {"pb.yml": "just: a mapping\n", "ok.yml": "- hosts: localhost\n"}
    found = [d for d in diagnose(tmp_path, spec_text, inv, files) if d.code == code]
    if code in ("MTV095", "MTV091", "MTV094"):
        want_line = line(spec_text, "cutover:")
    else:
        want_line = line(spec_text, needle)
    want_vm = FLAGGED_VM.get(code, "alpha" if code in VM_LEVEL else "")
    assert {(d.vm, d.location.line) for d in found} == {(want_vm, want_line)}, [str(d) for d in found]
    d = found[0]
    assert words in d.message + " " + d.help, str(d)
    assert d.location.file.endswith("sites/t/site.yaml")
    assert d.level == diagnostics.CATALOG[code].severity


@pytest.mark.parametrize("code,spec_text,inv,needle,words", CASES, ids=[c[0] for c in CASES])
def test_check_stays_quiet_when_its_cause_is_gone(tmp_path, code, spec_text, inv, needle, words):
    """Without its cause the check must not fire: VM-level checks keep their spec (a warm plan,
    say) with the base inventory; the others get the base spec."""
    files = {"pb.yml": "- hosts: localhost\n", "ok.yml": "- hosts: localhost\n"}
    quiet_spec = spec_text if code in VM_LEVEL else BASE_SPEC
    assert [str(d) for d in diagnose(tmp_path, quiet_spec, None, files) if d.code == code] == []


def test_start_checks_look_at_every_started_plan_and_name_it(tmp_path):
    """An unstarted plan listed first does not end the start checks; a cold start without a
    cutover is no MTV092 (nothing to cut over); each finding names its plan (suppressions
    and acknowledgements match on it)."""
    two = BASE_SPEC.replace("plans:\n", "plans:\n  - name: first\n    select:\n      - name: beta\n", 1) \
        .replace("      - folder: /DC/vm/prod", "      - name: alpha")
    warm = two.replace("    preHook: prep", "    preHook: prep\n    type: warm") + "    start: true\n"
    found = [(d.code, d.plan) for d in diagnose(tmp_path / "w", warm) if d.code.startswith("MTV09")]
    assert found == [("MTV092", "wave1")]
    cold = two + "    start: true\n"
    assert [d.code for d in diagnose(tmp_path / "c", cold) if d.code.startswith("MTV09")] == []


def test_pod_network_warnings_name_a_setting_where_it_is_and_come_in_batch_order(tmp_path):
    inv = sitekit.inventory(vms=[vm(f"vm-{i}", f"web{i:02d}") for i in range(1, 13)])
    text = BASE_SPEC.replace("target: app-net", "target: pod").replace(
        "    preHook: prep\n", "    preHook: prep\n    batch: {maxVMs: 5}\n    preserveStaticIPs: true\n")
    d = sitekit.make(tmp_path, text, inv)
    sitekit.lock(d)
    from compiler import pipeline
    found = [x for x in pipeline.check_site(d, pipeline.Options(now=NOW))[2] if x.code == "MTV036"]   # the build's path
    assert [d.message for d in found] == [
        f"plan 'wave1-0{n}': {k} VM(s) land on the pod network while preserveStaticIPs is set true here"
        for n, k in ((1, 5), (2, 5), (3, 2))]
    assert {d.location.line for d in found} == {line(text, "preserveStaticIPs: true")}


@pytest.mark.parametrize("named, suppressed", [("wave1", ["wave1-01", "wave1-02"]), ("wave1-02", ["wave1-02"])])
def test_a_suppression_naming_a_batched_plan_covers_its_batches_or_names_one(tmp_path, named, suppressed):
    inv = sitekit.inventory(vms=[vm(f"vm-{i}", f"web{i:02d}") for i in range(1, 4)])
    text = BASE_SPEC.replace("target: app-net", "target: pod").replace(
        "    preHook: prep\n", "    preHook: prep\n    batch: {maxVMs: 2}\n") + \
        f"suppress:\n  - {{code: MTV036, plan: {named}, reason: DHCP on the pod network is fine here}}\n"
    d = sitekit.make(tmp_path, text, inv)
    sitekit.lock(d)
    from compiler import pipeline
    found = [x for x in pipeline.check_site(d, pipeline.Options(now=NOW))[2] if x.code in ("MTV036", "MTV002")]
    assert sorted((x.code, x.plan, bool(x.suppressed)) for x in found) == [
        ("MTV036", b, b in suppressed) for b in ("wave1-01", "wave1-02")]


def test_every_catalog_code_has_a_trigger_test():
    """Every code is fired by a case here or named by a test (found by reading the test
    files, not by a hand-kept list that says "covered elsewhere")."""
    import re
    elsewhere = "\n".join(f.read_text() for f in Path(__file__).parent.rglob("*.py"))
    named = set(re.findall(r"MTV\d{3}", elsewhere))
    assert set(diagnostics.CATALOG) - {c[0] for c in CASES} - named == set()


def _finalized(tmp_path, spec_text):
    d = sitekit.make(tmp_path, spec_text)
    sitekit.lock(d)
    site = spec.load(d)
    return diagnostics.finalize(check.run(site, lockmod.read(site), now=NOW), site.suppressions)


def test_suppression_is_shown_not_silent(tmp_path):
    spec_text = BASE_SPEC.replace("target: app-net", "target: pod") + \
        "suppress:\n  - code: MTV036\n    plan: wave1\n    reason: DHCP on the pod network is fine here\n"
    diags = _finalized(tmp_path, spec_text)
    sup = [x for x in diags if x.code == "MTV036"]
    assert sup and sup[0].suppressed == "DHCP on the pod network is fine here"
    assert "suppressed warning[MTV036]" in str(sup[0]) and not diagnostics.has_errors(diags)


def test_errors_cannot_be_suppressed(tmp_path):
    spec_text = BASE_SPEC.replace("    preHook: prep", "    preHook: prep\n    type: live") + \
        "suppress:\n  - code: MTV040\n    reason: trying to hide it\n"
    assert diagnostics.has_errors(_finalized(tmp_path, spec_text))


def test_strict_turns_warnings_into_errors(tmp_path):
    d = sitekit.make(tmp_path, BASE_SPEC.replace("target: app-net", "target: pod"))
    sitekit.lock(d)
    site = spec.load(d)
    raw = check.run(site, lockmod.read(site), now=NOW)
    assert not diagnostics.has_errors(diagnostics.finalize(raw))
    assert diagnostics.has_errors(diagnostics.finalize(raw, strict=True))


def test_bare_nad_in_a_shared_map_lives_in_the_site_target_namespace(tmp_path):
    """A site-level map resolves `app-net` to the site's target namespace; a plan
    that targets another namespace cannot use it (NetMapDestinationNADNotValid)."""
    spec_text = BASE_SPEC.replace("    preHook: prep", "    preHook: prep\n    targetNamespace: other")
    found = [d for d in diagnose(tmp_path, spec_text) if d.code == "MTV033"]
    assert [d.message for d in found] == ["NAD apps/app-net is outside target namespace other and 'default' "
                                          "(plan 'wave1')"]
    assert found[0].location.line == line(spec_text, "source: VM Network")


def test_credentials_rules_cover_the_destination_and_hosts(tmp_path):
    spec_text = BASE_SPEC.replace("networks:\n", "destination:\n  url: https://api.remote:6443\n  credentials:\n"
                                  "    plaintextFromEnv: {token: REMOTE_TOKEN}\nnetworks:\n", 1)
    found = [d for d in diagnose(tmp_path, spec_text) if d.code == "MTV005"]
    assert [d.message for d in found] == ["credentials.plaintextFromEnv writes the credentials into Git in plaintext "
                                          "(destination)"]
    assert found[0].location.line == line(spec_text, "plaintextFromEnv: {token")
    spec_text = BASE_SPEC.replace("networks:\n", "destination:\n  url: https://api.remote:6443\n  credentials:\n"
                                  "    secret: remote\n    data: {token: abc123}\nnetworks:\n", 1)
    found = [d for d in diagnose(tmp_path / "b", spec_text) if d.code == "MTV005"]
    assert [d.message for d in found] == ["credentials.data.token would put a secret value in Git"]


def _stale(tmp_path, edited: str):
    d = sitekit.make(tmp_path)
    sitekit.lock(d)
    (d / "site.yaml").write_text(edited)
    site = spec.load(d)
    return [(x.code, x.message) for x in check.run(site, lockmod.read(site), now=NOW)]


def test_stale_lock_names_new_removed_and_changed_sections(tmp_path):
    added = BASE_SPEC + "    exclude:\n      - name: beta\n  - name: wave2\n    select:\n      - name: beta\n"
    assert _stale(tmp_path / "a", added) == [("MTV004", "plan wave1 changed since the lock was made"),
                                             ("MTV004", "plan wave2 is new since the lock was made")]
    two = sitekit.make(tmp_path / "b", added)
    sitekit.lock(two)
    (two / "site.yaml").write_text(added.split("  - name: wave2")[0])
    site = spec.load(two)
    assert [(x.code, x.message) for x in check.run(site, lockmod.read(site), now=NOW)] == \
        [("MTV004", "plan wave2 was removed since the lock was made")]
    own_storage = BASE_SPEC + "    storage:\n      - source: ds1\n        storageClass: gold\n"
    assert _stale(tmp_path / "c", own_storage) == [("MTV004", "storage-map t-wave1-storage is new since the lock was made")]
    assert _stale(tmp_path / "d", BASE_SPEC.replace("folder: /DC/vm/prod", "folder: /DC/vm")) == \
        [("MTV004", "plan wave1 changed since the lock was made")]


@pytest.mark.parametrize("tools", ["toolsNotInstalled", "toolsNotRunning"])
def test_guest_tools_on_a_running_vm(tmp_path, tools):
    found = [d for d in diagnose(tmp_path, BASE_SPEC, _inv(powerState="poweredOn", ipAddress="10.1.1.1",
                                                           toolsStatus=tools)) if d.code == "MTV083"]
    assert [(d.vm, tools in d.message) for d in found] == [("alpha", True)]


def _pinned_since(d, since: str) -> None:
    lock = json.loads((d / "mtvgen.lock").read_text())
    for pin in lock["started"].values():
        pin["since"] = since
    (d / "mtvgen.lock").write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")


def test_a_cutover_that_passed_during_the_run_is_a_warning_and_one_past_at_its_start_an_error(tmp_path):
    """MTV095 only where the Migration would cut over at once: the cutover was already past
    when the attempt was pinned (started). One that passed while it ran is MTV090."""
    spec_text = WARM + "    start:\n      cutover: '2026-01-01T00:00:00+00:00'\n"
    d = sitekit.make(tmp_path, spec_text)
    sitekit.lock(d)
    codes = lambda: {x.code for x in check.run(spec.load(d), lockmod.read(spec.load(d)), now=NOW)}  # noqa: E731
    assert "MTV095" in codes() and "MTV090" not in codes()
    _pinned_since(d, "2025-12-31T00:00:00+00:00")          # pinned before its cutover, which has passed since
    assert "MTV090" in codes() and "MTV095" not in codes()
    (d / "site.yaml").write_text(spec_text.replace("    start:\n", "    start:\n      attempt: 2\n"))
    assert "MTV095" in codes()                             # a new attempt with the old cutover: at once


def test_done_plans_are_not_judged_again(tmp_path):
    """A done plan ran: a past cutover, a VM that now has a snapshot, are no news."""
    spec_text = WARM + "    start:\n      cutover: '2026-01-01T00:00:00+00:00'\n"
    d = sitekit.make(tmp_path, spec_text, _inv(snapshot={"kind": "VirtualMachineSnapshot", "id": "s-1"}))
    sitekit.lock(d)
    _pinned_since(d, "2025-12-31T00:00:00+00:00")
    assert {x.code for x in check.run(spec.load(d), lockmod.read(spec.load(d)), now=NOW)} >= {"MTV090", "MTV043"}
    (d / "site.yaml").write_text(spec_text + "    done: true\n")
    sitekit.lock(d)
    site = spec.load(d)
    codes = {x.code for x in check.run(site, lockmod.read(site), now=NOW)}
    assert not codes & {"MTV090", "MTV043", "MTV124"}


def test_a_large_plan_split_into_batches_is_not_large(tmp_path):
    from compiler import pipeline
    inv = sitekit.inventory(vms=[vm(f"vm-{i}", f"app{i}") for i in range(501)])
    d = sitekit.make(tmp_path, BASE_SPEC.replace("    preHook: prep\n", "    preHook: prep\n    batch: {maxVMs: 500}\n"), inv)
    sitekit.lock(d)
    site, lock, found, _ = pipeline.check_site(d, pipeline.Options(now=NOW))
    assert sorted(len(lock.plans[p.name]) for p in site.plans) == [1, 500]       # two batches
    assert [d.code for d in found if d.code == "MTV019"] == []
