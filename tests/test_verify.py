"""`mtvgen verify`: the drift gate before a window (issue 21 item 3). The source is
re-read and compared with the lock, for the plans of a wave or those named; the lock
is never written, and every change is a located, coded finding."""

from __future__ import annotations

import json

import yaml

import sitekit
from conftest import run
from sitekit import BASE_SPEC, vm

TWO_WAVES = BASE_SPEC.replace("plans:\n", "waves:\n  - {wave: 1, start: '2027-01-09T21:00:00+01:00', duration: 8h}\n"
                              "  - {wave: 2, start: '2027-01-16T21:00:00+01:00', duration: 8h}\nplans:\n", 1) \
    .replace("    preHook: prep\n", "    preHook: prep\n    wave: 1\n") \
    .replace("      - folder: /DC/vm/prod", "      - name: alpha") + \
    "  - name: later\n    wave: 2\n    select:\n      - name: beta\n"


def _site(tmp_path):
    d = sitekit.make(tmp_path, TWO_WAVES)
    assert run(["lock", "sites/t", "--inventory", "sites/t/inventory.yaml"], tmp_path).exit_code == 0
    return d


def _source_now(d, **changes):
    """The source as it is at the window: the lock's snapshot with `changes` made to VMs."""
    inv = yaml.safe_load((d / "inventory.yaml").read_text())
    inv["vms"] = [{**v, **changes.get(v["id"], {})} for v in inv["vms"] if changes.get(v["id"]) != "gone"]
    (d / "now.yaml").write_text(yaml.safe_dump(inv, sort_keys=False))


def verify(tmp_path, *args):
    return run(["verify", "sites/t", "--inventory", "sites/t/now.yaml", *args], tmp_path)


def test_an_unchanged_source_passes_and_the_lock_is_untouched(tmp_path):
    d = _site(tmp_path)
    before = (d / "mtvgen.lock").read_bytes()
    _source_now(d)
    r = verify(tmp_path)
    assert r.exit_code == 0 and "2 VM(s) of 2 plan(s) are as sites/t/mtvgen.lock has them" in r.stderr, r.output
    assert (d / "mtvgen.lock").read_bytes() == before


def test_drift_in_the_wave_is_a_located_error_and_other_waves_are_not_read(tmp_path):
    d = _site(tmp_path)
    grown = dict(vm("vm-1", "alpha")["disks"][0], capacity=4 << 30)
    unmapped = {"network": {"kind": "Network", "id": "dvs-3"}, "mac": "00:50:56:00:00:99"}
    _source_now(d, **{"vm-1": {"name": "alpha-new", "disks": [grown], "nics": vm("vm-1", "alpha")["nics"] + [unmapped],
                               "snapshot": {"kind": "VirtualMachineSnapshot", "id": "snapshot-1"}},
                      "vm-2": {"name": "beta-renamed"}})
    before = (d / "mtvgen.lock").read_bytes()
    r = verify(tmp_path, "--wave", "1")
    assert r.exit_code == 1
    at = TWO_WAVES.splitlines().index("  - name: wave1") + 1
    lines = [x for x in r.stderr.splitlines() if "error[MTV15" in x]
    assert lines == [
        f"sites/t/site.yaml:{at}:5: error[MTV150]: plan 'wave1': VM vm-1 'alpha' is now 'alpha-new'",
        f"sites/t/site.yaml:{at}:5: error[MTV150]: plan 'wave1': VM vm-1 'alpha': disk 2000 resized 1 GiB -> 4 GiB",
        f"sites/t/site.yaml:{at}:5: error[MTV150]: plan 'wave1': VM vm-1 'alpha': has a new snapshot",
        f"sites/t/site.yaml:{at}:5: error[MTV150]: plan 'wave1': VM vm-1 'alpha': new NIC 00:50:56:00:00:99 on dvs-3",
        f"sites/t/site.yaml:{at}:5: error[MTV152]: VM vm-1 'alpha-new' of plan 'wave1': NIC 00:50:56:00:00:99 is on "
        "network 'Switch' (dvs-3), which the plan's map does not cover",
    ], r.stderr
    assert "beta" not in r.stderr                                       # wave 2 was not asked for
    assert (d / "mtvgen.lock").read_bytes() == before
    r = verify(tmp_path, "--plan", "later", "--format", "json")
    found = json.loads(r.stdout)["diagnostics"]
    assert r.exit_code == 1 and [(f["code"], f["plan"], f["vm"]) for f in found] == [("MTV150", "later", "vm-2")]


def test_a_vm_gone_from_the_source_is_named(tmp_path):
    d = _site(tmp_path)
    _source_now(d, **{"vm-2": "gone"})
    r = verify(tmp_path, "--plan", "later")
    assert r.exit_code == 1 and "error[MTV151]: VM vm-2 'beta' of plan 'later' is gone from the source" in r.stderr


def test_nothing_to_verify_is_a_usage_error(tmp_path):
    d = _site(tmp_path)
    _source_now(d)
    r = verify(tmp_path, "--wave", "7")
    assert r.exit_code == 2 and "no plan to verify in wave 7" in r.output


def test_a_wave_that_no_longer_fits_at_the_sizes_read_now_is_heard(tmp_path):
    """At 1 MiB/s, alpha's 1 GiB copies in 17 min inside a 30 min window; grown to 2 GiB it
    takes 34 min. Beside MTV150 (the disk grew), verify says the wave no longer fits."""
    spec = TWO_WAVES.replace("duration: 8h}", "duration: 30m}").replace(
        "waves:\n", "throughput: {perVM: 1MiB/s, total: 1GiB/s}\nwaves:\n", 1)
    d = sitekit.make(tmp_path, spec)
    assert run(["lock", "sites/t", "--inventory", "sites/t/inventory.yaml"], tmp_path).exit_code == 0
    _source_now(d, **{"vm-1": {"disks": [dict(vm("vm-1", "alpha")["disks"][0], capacity=2 << 30)]}})
    r = verify(tmp_path, "--wave", "1")
    assert r.exit_code == 1
    assert "warning[MTV170]: wave 1 fitted its 30m window at the lock's sizes (0h17m) and no longer does at the " \
           "sizes read now (0h34m)" in r.stderr, r.stderr
    assert "help: re-lock and run `mtvgen fit`, or hold the window" in r.stderr
    _source_now(d, **{"vm-1": {"disks": [dict(vm("vm-1", "alpha")["disks"][0], capacity=(1 << 30) + (1 << 20))]}})
    assert "MTV170" not in verify(tmp_path, "--wave", "1").stderr      # 1 MiB more still fits
