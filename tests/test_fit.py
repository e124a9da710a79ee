"""`mtvgen fit` (issue 21 item 1): batches placed in the waves whose windows hold them, at
the site's rates; and the estimate's inputs as Forklift's scheduler sees a VM."""

from __future__ import annotations

import shutil

import yaml

import sitekit
from compiler import lifecycle, lock as lockmod, spec, throughput
from conftest import NOW, run
from sitekit import BASE_SPEC, vm

GIB = 2**30
WAVES = """\
throughput: {perVM: 1MiB/s, total: 1GiB/s, maxInFlight: 20%s}
waves:
  - {wave: 1, start: "2027-01-09T21:00:00+01:00", duration: 30m}
  - {wave: 2, start: "2027-01-16T21:00:00+01:00", duration: 30m}
plans:
"""


def _vm(n: int, host: str = "host-1", gib: int = 1):
    disk = {"key": 2000, "datastore": {"kind": "Datastore", "id": "datastore-1"}, "capacity": gib * GIB,
            "changeTrackingEnabled": True, "mode": "persistent"}
    return vm(f"vm-{n}", f"app-{n:02d}", host=host, disks=[disk])


def _site(tmp_path, vms, batch: str = "batch: {maxVMs: 2}", limits: str = "", plan_extra: str = ""):
    """One plan in wave 1, batched as `batch` says: every 1 GiB VM copies in 17 min at 1 MiB/s."""
    text = BASE_SPEC.replace("plans:\n", WAVES % limits)
    text = text.replace("  - name: wave1\n", f"  - name: wave1\n    wave: 1\n    {batch}\n{plan_extra}")
    hosts = sitekit.BASE_INVENTORY["hosts"] + [{"id": "host-2", "name": "esx2", "path": "/DC/host/C1/esx2",
                                                "cluster": "domain-c1", "networkAdapters": [{"ipAddress": "10.0.0.2"}]}]
    d = sitekit.make(tmp_path, text, sitekit.inventory(vms=vms, hosts=hosts))
    sitekit.lock(d)
    return d


def _fit(tmp_path, *args):
    return run(["fit", "sites/t", "--now", NOW, *args], tmp_path)


def _batch(d):
    return yaml.safe_load((d / "site.yaml").read_text())["plans"][0]["batch"]


def test_an_overflowing_batch_moves_to_the_next_wave_that_holds_it(tmp_path):
    # 4 VMs in 2 batches, all on esx1; 20 in flight: all 4 copy at once, but the host's
    # limit of 2 MiB/s makes a batch of two take 17 min and both batches 34 min: wave 1 is 30 min
    d = _site(tmp_path, [_vm(n) for n in range(1, 5)], limits=", perHost: 2MiB/s")
    check = run(["check", "sites/t", "--now", NOW], tmp_path)
    assert "warning[MTV170]: wave 1 is estimated at 0h34m" in check.output
    other = _fit(tmp_path, "--wave", "2")          # only wave 2's batches may move: there are none
    assert other.exit_code == 0 and other.stdout == "" and "nothing to move" in other.stderr
    r = _fit(tmp_path)
    assert r.exit_code == 0, r.output
    assert "-    batch: {maxVMs: 2}\n+    batch: {maxVMs: 2, waves: {wave1-02: 2}}\n" in r.stdout
    assert "wave 1: 0h34m -> 0h17m in a 0h30m window" in r.stderr
    assert _batch(d) == {"maxVMs": 2, "waves": {"wave1-02": 2}}
    assert "MTV170" not in run(["check", "sites/t", "--now", NOW], tmp_path).output
    # what a sync window holds follows the batch
    site = spec.load(d)
    expanded = lifecycle.expand(site, lockmod.read(site))
    assert {p.name: p.wave for p in expanded.plans} == {"wave1-01": 1, "wave1-02": 2}
    again = _fit(tmp_path)           # placed now: a second fit has nothing to move
    assert again.exit_code == 0 and again.stdout == "" and "nothing to move" in again.stderr


def test_the_same_site_gives_the_same_proposal(tmp_path):
    outs = []
    for k in range(2):
        root = tmp_path / str(k)
        _site(root, [_vm(n, host=f"host-{1 + n % 2}") for n in range(1, 9)], limits=", perHost: 2MiB/s")
        outs.append(_fit(root).stdout)
    assert outs[0] == outs[1] and "waves:" in outs[0]


def test_a_host_limit_spreads_the_batches_of_one_host_over_the_waves(tmp_path):
    # batches 1 and 2 on esx1, batch 3 on esx2: first fit keeps 1, moves 2 (esx1 is full), keeps 3
    vms = [_vm(1), _vm(2), _vm(3), _vm(4), _vm(5, host="host-2"), _vm(6, host="host-2")]
    d = _site(tmp_path, vms, limits=", perHost: 2MiB/s")
    assert _fit(tmp_path).exit_code == 0
    assert _batch(d)["waves"] == {"wave1-02": 2}
    # without the host limit all three fit in wave 1 together
    shutil.rmtree(tmp_path / "sites")
    d = _site(tmp_path, vms)
    r = _fit(tmp_path)
    assert r.exit_code == 0 and "nothing to move" in r.stderr and "waves" not in _batch(d)


def test_explicit_places_and_started_batches_stay(tmp_path):
    vms = [_vm(1), _vm(2), _vm(3), _vm(4), _vm(5, host="host-2"), _vm(6, host="host-2")]
    d = _site(tmp_path, vms, limits=", perHost: 2MiB/s", batch="batch: {maxVMs: 2, waves: {wave1-02: 1}}")
    r = _fit(tmp_path)
    # wave1-02 (esx1) is placed by hand in wave 1: it stays, so 01 (esx1 too) is the one that moves (first
    # fit alone would have kept 01 and moved 02); 03 (esx2) fits beside 02
    assert r.exit_code == 0, r.output
    assert _batch(d)["waves"] == {"wave1-02": 1, "wave1-01": 2}
    # a started batch stays too: 02 runs in wave 1, so 01 moves
    shutil.rmtree(tmp_path / "sites")
    d = _site(tmp_path, vms, limits=", perHost: 2MiB/s", plan_extra="    start: {batches: [2]}\n")
    r = _fit(tmp_path)
    assert r.exit_code == 0, r.output
    assert _batch(d)["waves"] == {"wave1-01": 2}


def test_a_plan_too_long_for_any_window_writes_nothing_and_says_what_would_fit(tmp_path):
    d = _site(tmp_path, [_vm(n) for n in range(1, 5)], batch="type: cold", limits=", perHost: 2MiB/s")
    before = (d / "site.yaml").read_text()
    r = _fit(tmp_path)
    assert r.exit_code == 1
    assert "site.yaml:25:5: warning[MTV170]: plan wave1 (4 VMs, 0h34m alone) is longer than any open window" in r.output
    assert "help: split it: `batch: {maxVMs: 3}` on plan wave1, then `mtvgen lock` and `mtvgen fit`" in r.output
    assert "error: nothing was written to sites/t/site.yaml" in r.output
    assert (d / "site.yaml").read_text() == before


def test_fit_needs_rates_windows_and_a_current_lock(tmp_path):
    d = sitekit.locked(tmp_path)
    r = _fit(tmp_path)
    assert r.exit_code == 2 and "declares no `throughput:`" in r.output
    shutil.rmtree(tmp_path / "sites")
    d = _site(tmp_path, [_vm(n) for n in range(1, 5)])
    text = (d / "site.yaml").read_text()
    (d / "site.yaml").write_text(text.replace("folder: /DC/vm/prod", "name: app-01"))
    r = _fit(tmp_path)
    assert r.exit_code == 2 and "changed what it selects or how it batches since the lock" in r.output
    # batching changed since the lock (a lower maxVMs, no batches): the lock's batches are not the spec's
    for edit in ("batch: {maxVMs: 1}", "type: cold"):
        (d / "site.yaml").write_text(text.replace("batch: {maxVMs: 2}", edit))
        r = _fit(tmp_path)
        assert r.exit_code == 2 and "how it batches since the lock" in r.output and "run `mtvgen lock sites/t` first" \
            in r.output


def test_batch_waves_name_batches_of_the_plan_and_waves_that_exist(tmp_path):
    d = _site(tmp_path, [_vm(n) for n in range(1, 5)])
    text = (d / "site.yaml").read_text()
    (d / "site.yaml").write_text(text.replace("{maxVMs: 2}", "{maxVMs: 2, waves: {web-02: 2, wave1-02: 7}}"))
    out = run(["check", "sites/t", "--now", NOW], tmp_path).output
    assert "error[MTV172]: batch.waves names 'web-02', which is not a batch of plan 'wave1'" in out
    assert "error[MTV120]: batch 'wave1-02' is in wave 7, which `waves:` does not define" in out


def test_a_limit_on_a_host_no_vm_uses_is_heard(tmp_path):
    _site(tmp_path, [_vm(1)], limits=", hosts: {esx-1: 100MiB/s}")
    out = run(["check", "sites/t", "--now", NOW], tmp_path).output
    assert "warning[MTV171]: throughput.hosts names 'esx-1', which no locked VM uses" in out
    assert "did you mean 'esx1'?" in out


def test_a_vm_as_forklifts_scheduler_sees_it(tmp_path):
    two_disks = [{"key": 2000 + k, "datastore": {"kind": "Datastore", "id": f"datastore-{k}"}, "capacity": k * GIB,
                  "changeTrackingEnabled": True, "mode": "persistent"} for k in (1, 2)]
    two_disks[0]["capacity"], two_disks[1]["capacity"] = 2 * GIB, GIB      # most bytes on ds1
    d = _site(tmp_path, [vm("vm-1", "app-01", host="host-2", disks=two_disks)], batch="type: cold",
              limits=", warmDelta: 10%")
    site = spec.load(d)
    lock = lockmod.read(site)
    [plan] = site.plans
    # cold to the local cluster: virt-v2v copies and converts, one slot a VM, held through conversion; the
    # datastore holding most bytes is the one it counts on
    assert throughput.jobs(site, lock, plan) == [throughput.Job("app-01", 3 * GIB, slot="esx2", cost=1, held=True,
                                                                host="esx2", datastore="ds1")]
    warm = site.plans[0].__class__(**{**{f: getattr(plan, f) for f in plan.__struct_fields__},
                                      "options": {**plan.options, "type": "warm"}})
    # warm: CDI copies the disks before the window, one slot a disk, free while the guest converts; in the
    # window, the cutover copies what changed since the last precopy (warmDelta)
    assert throughput.jobs(site, lock, warm) == [throughput.Job("app-01", round(0.3 * GIB), slot="esx2", cost=2,
                                                                held=False, host="esx2", datastore="ds1")]
    # cold, but CDI copies it: without shared disks, or without guest conversion
    for option in ({"migrateSharedDisks": False}, {"skipGuestConversion": True}):
        cdi = site.plans[0].__class__(**{**{f: getattr(plan, f) for f in plan.__struct_fields__},
                                         "options": {**plan.options, **option}})
        assert [(j.size, j.cost, j.held) for j in throughput.jobs(site, lock, cdi)] == [(3 * GIB, 2, False)], option


def test_the_summary_says_when_a_moved_batch_now_runs(repo):
    spec = repo / "sites/factory/site.yaml"
    spec.write_text(spec.read_text().replace("\nwaves:\n", "\nthroughput: {perVM: 50MiB/s, total: 120MiB/s, "
                                             "conversion: 10m}\nwaves:\n", 1).replace(
        "description: web farm}\n", "description: web farm}\n  - {wave: 3, start: \"2026-12-19T21:00:00+01:00\", "
        "duration: 8h}\n", 1))
    assert run(["build", "--now", NOW, "--out", "base"], repo).exit_code == 0
    r = run(["fit", "sites/factory", "--now", NOW, "--wave", "2"], repo)
    assert r.exit_code == 0 and "web-03 to wave 3" in r.stderr, r.output
    assert run(["build", "--now", NOW], repo).exit_code == 0
    text = run(["summary", "sites/factory", "--base", "base"], repo).stdout
    assert "plan `web-03`: its run's window moves from 12 Dec 20:00 UTC for 8h to 19 Dec 20:00 UTC for 8h" in text


def test_a_warm_delta_is_a_percentage(tmp_path):
    d = sitekit.make(tmp_path, BASE_SPEC.replace("plans:\n", "throughput: {perVM: 1MiB/s, total: 1GiB/s, "
                                                              "warmDelta: 150%}\nplans:\n"))
    r = run(["check", "sites/t"], tmp_path)
    assert r.exit_code == 1 and "throughput.warmDelta: '150%' must be a percentage such as 5%" in r.output
    assert d.exists()


def test_what_fits_no_window_is_named_with_what_would(tmp_path):
    # a batch of four 1 GiB VMs on one host at 2 MiB/s: 34 min alone, in 30 min windows; three would fit
    d = _site(tmp_path, [_vm(n) for n in range(1, 5)], batch="batch: {maxVMs: 4}", limits=", perHost: 2MiB/s")
    before = (d / "site.yaml").read_text()
    r = _fit(tmp_path)
    assert r.exit_code == 1 and (d / "site.yaml").read_text() == before
    assert "warning[MTV170]: batch wave1-01 (4 VMs, 0h34m alone) is longer than any open window" in r.output
    assert "help: split it: `batch: {maxVMs: 3}` on plan wave1, then `mtvgen lock` and `mtvgen fit`" in r.output
    # a VM no window holds at all: 2 GiB at 1 MiB/s
    shutil.rmtree(tmp_path / "sites")
    _site(tmp_path, [_vm(1, gib=2)])
    r = _fit(tmp_path)
    assert r.exit_code == 1 and "help: no window holds even its first VM: lengthen the window or raise the rates" \
        in r.output


def test_a_batch_whose_window_has_passed_goes_to_the_next_open_one(tmp_path):
    d = _site(tmp_path, [_vm(n) for n in range(1, 5)])
    r = run(["fit", "sites/t", "--now", "2027-01-12T00:00:00+00:00"], tmp_path)       # after wave 1's window
    assert r.exit_code == 0, r.output
    assert _batch(d)["waves"] == {"wave1-01": 2, "wave1-02": 2}


def test_started_batches_that_overflow_their_wave_are_said_to_be_settled(tmp_path):
    d = _site(tmp_path, [_vm(n) for n in range(1, 5)], limits=", perHost: 2MiB/s",
              plan_extra="    start: {batches: [1, 2]}\n")
    r = _fit(tmp_path)
    assert r.exit_code == 1 and "waves" not in _batch(d)
    assert "warning[MTV170]: wave 1 is estimated at 0h34m, longer than its 30m window, with what is settled in it " \
           "(started batches, `batch.waves`)" in r.output


def test_two_plans_of_one_wave_that_overflow_together_are_not_moved(tmp_path):
    """A plan that is not batched keeps the wave its spec names: fit says what to do."""
    # app-01 and app-02 share esx1's 1 MiB/s: 34 min together, 17 min apart
    d = _site(tmp_path, [_vm(1), _vm(2), _vm(3, host="host-2")], batch="type: cold", limits=", perHost: 1MiB/s",
              plan_extra="    exclude:\n      - name: app-02\n")
    text = (d / "site.yaml").read_text() + "  - name: second\n    wave: 1\n    select:\n      - name: app-02\n"
    (d / "site.yaml").write_text(text)
    assert run(["lock", "sites/t", "--inventory", "sites/t/inventory.yaml"], tmp_path).exit_code == 0
    r = _fit(tmp_path)
    assert r.exit_code == 1 and (d / "site.yaml").read_text() == text
    assert "plan second (1 VMs, 0h17m alone) fits no open window beside what is there" in r.output, r.output
    assert "help: batch it (`batch: {maxVMs: N}`) so fit may move batches, give it a later `wave:`, add a wave" \
        in r.output


def test_a_vms_disks_on_one_datastore_add_up_and_other_types_count_across_the_provider(repo):
    two = [{"key": 2000 + k, "datastore": {"kind": "Datastore", "id": "datastore-1"}, "capacity": GIB,
            "changeTrackingEnabled": True, "mode": "persistent"} for k in (0, 1)]
    d = _site(repo / "t", [vm("vm-1", "app-01", disks=two)], batch="type: cold")
    site = spec.load(d)
    assert [(j.size, j.datastore) for j in throughput.jobs(site, lockmod.read(site), site.plans[0])] == [(2 * GIB, "ds1")]
    # oVirt's scheduler counts running VMs across the provider, one slot each, through conversion
    site = spec.load(repo / "sites/rhv-lab")
    lock = lockmod.read(site)
    jobs = [j for p in lifecycle.expand(site, lock).plans for j in throughput.jobs(site, lock, p)]
    assert jobs and {(j.slot, j.cost, j.held) for j in jobs} == {("", 1, True)}
