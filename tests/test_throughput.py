"""Waves that fit their windows (issue 21 item 1): the estimate's model, literally, and
MTV170 for a wave that overflows its window by one VM, none for one that fits."""

from __future__ import annotations

import json

import pytest

import sitekit
from compiler import throughput
from conftest import NOW, run
from sitekit import BASE_SPEC, vm

GIB = 2**30


def _jobs(*sizes, **kw):
    return [throughput.Job(f"vm{i}", size, **kw) for i, size in enumerate(sizes)]


def test_vms_start_in_plan_order_and_share_the_total_rate():
    model = throughput.Model(per_vm=1 * GIB, total=2 * GIB, in_flight=2)
    took, ends = throughput.estimate(_jobs(2 * GIB, 4 * GIB, 2 * GIB), model)
    # the first two start (plan order, as Forklift's schedulers take them); the 2 GiB ends at 2 s, the third
    # starts; the 4 GiB one and the third both have 2 GiB left: both end at 4 s
    assert (took, ends) == (4.0, [2.0, 4.0, 4.0])
    # the total caps them: 4 at once of 1 GiB/s each share 2 GiB/s
    took, _ = throughput.estimate(_jobs(*[GIB] * 4), throughput.Model(GIB, 2 * GIB, 4))
    assert took == 2.0


def test_a_slot_is_held_through_conversion_except_on_the_vsphere_disk_path():
    model = throughput.Model(GIB, 10 * GIB, 1, conversion=60)
    # virt-v2v and every non-vSphere scheduler count a VM as running until it is created
    assert throughput.estimate(_jobs(GIB, GIB), model) == (122.0, [61.0, 122.0])
    # vSphere's CDI path: ConvertGuest costs no slot (scheduler/vsphere cost), the next copy starts at once
    assert throughput.estimate(_jobs(GIB, GIB, held=False), model) == (62.0, [61.0, 62.0])


def test_vsphere_counts_in_flight_per_host_in_disks():
    model = throughput.Model(GIB, 100 * GIB, in_flight=2)
    # two one-disk VMs on esx-1 fill its two slots; esx-2's VM does not wait for them
    jobs = [throughput.Job("a", GIB, slot="esx-1"), throughput.Job("b", GIB, slot="esx-1"),
            throughput.Job("c", GIB, slot="esx-1"), throughput.Job("d", GIB, slot="esx-2")]
    assert throughput.estimate(jobs, model)[1] == [1.0, 1.0, 2.0, 1.0]
    # a two-disk VM takes both slots of its host; a VM with more disks than the limit starts only on an
    # idle host, so the one-disk VM behind it goes first (schedulable() lists every VM that fits)
    jobs = [throughput.Job("a", GIB, slot="esx-1", cost=2), throughput.Job("b", GIB, slot="esx-1"),
            throughput.Job("big", GIB, slot="esx-1", cost=5), throughput.Job("c", GIB, slot="esx-1")]
    assert throughput.estimate(jobs, model)[1] == [1.0, 2.0, 3.0, 2.0]


def test_a_vm_waits_for_room_for_all_its_disks():
    # one slot taken by a one-disk VM: a two-disk VM needs both, so it waits for the first to end
    jobs = [throughput.Job("one", GIB, cost=1), throughput.Job("two", GIB, cost=2)]
    assert throughput.estimate(jobs, throughput.Model(GIB, 100 * GIB, in_flight=2))[1] == [1.0, 2.0]


def test_an_empty_wave_takes_no_time():
    assert throughput.estimate([], throughput.Model(GIB, GIB)) == (0.0, [])


def test_host_and_datastore_limits_share_fairly():
    # esx-1 serves 1 GiB/s to its two copies; esx-2's one copy takes its full per-VM rate
    jobs = [throughput.Job("a", GIB, host="esx-1"), throughput.Job("b", GIB, host="esx-1"),
            throughput.Job("c", GIB, host="esx-2")]
    assert throughput.estimate(jobs, throughput.Model(GIB, 10 * GIB, 20, per_host=GIB))[1] == [2.0, 2.0, 1.0]
    # a host of its own limit, over perHost
    model = throughput.Model(GIB, 10 * GIB, 20, per_host=GIB, hosts={"esx-1": 4 * GIB})
    assert throughput.estimate(jobs, model)[1] == [1.0, 1.0, 1.0]
    # a datastore's limit binds the copies on it; what it leaves of the total goes to the others
    jobs = [throughput.Job("a", 2 * GIB, datastore="ds-1"), throughput.Job("b", 2 * GIB, datastore="ds-1"),
            throughput.Job("c", 2 * GIB, datastore="ds-2")]
    model = throughput.Model(2 * GIB, 3 * GIB, 20, per_datastore=GIB)
    assert throughput.estimate(jobs, model)[1] == [4.0, 4.0, 2.0]
    # only esx-2 is limited (a named limit, no perHost): its two copies share 1 GiB/s, and the 1.5 GiB/s
    # of the total they leave all goes to esx-1's copy, under its per-VM 2 GiB/s
    jobs = [throughput.Job("a", GIB, host="esx-2"), throughput.Job("b", GIB, host="esx-2"),
            throughput.Job("c", 3 * GIB, host="esx-1")]
    model = throughput.Model(2 * GIB, 2.5 * GIB, 20, hosts={"esx-2": GIB})
    assert throughput.estimate(jobs, model)[1] == [2.0, 2.0, 2.0]


def test_a_rate_of_nothing_never_ends():
    took, ends = throughput.estimate(_jobs(GIB), throughput.Model(0, GIB, 1))
    assert took == float("inf") and throughput.hours(took).startswith("forever")


@pytest.mark.parametrize("text, value", [("150MiB/s", 150 * 2**20), ("1.2GiB/s", 1.2 * GIB), ("100MB/s", 10**8)])
def test_rates(text, value):
    assert throughput.rate(text) == value


def _site(tmp_path, in_flight: int, per_vm: str = "1MiB/s"):
    text = BASE_SPEC.replace("plans:\n", f"throughput: {{perVM: {per_vm}, total: 1GiB/s, maxInFlight: {in_flight}}}\n"
                             "waves:\n  - {wave: 1, start: \"2027-01-09T21:00:00+01:00\", duration: 30m}\nplans:\n")
    text = text.replace("  - name: wave1\n", "  - name: wave1\n    wave: 1\n")
    d = sitekit.make(tmp_path, text, sitekit.inventory(vms=[vm("vm-1", "alpha"), vm("vm-2", "beta")]))
    sitekit.lock(d)
    r = run(["check", "sites/t", "--format", "json", "--now", NOW], tmp_path)
    return [x for x in json.loads(r.stdout)["diagnostics"] if x["code"] == "MTV170"]


def test_a_wave_that_overflows_by_one_vm_warns_at_its_line(tmp_path):
    # two 1 GiB VMs at 1 MiB/s, one at a time: 2 x 1,024 s = 34 min, in a 30 min window
    [d] = _site(tmp_path, in_flight=1)
    assert d["severity"] == "warning" and d["line"] == 22          # the wave's entry
    assert d["message"] == ("wave 1 is estimated at 0h34m for 2 VMs (1.0 GiB/s in total, 1.0 MiB/s a VM "
                            "(declared), 1 in flight per host, in plan order), longer than its 30m window; ending after it: beta")


def test_a_wave_that_fits_says_nothing(tmp_path):
    assert _site(tmp_path, in_flight=2) == []           # both at once: 17 min


def test_a_rate_that_is_not_one_is_an_error_at_its_line(tmp_path):
    d = sitekit.make(tmp_path, BASE_SPEC.replace("plans:\n", "throughput: {perVM: fast, total: 1GiB/s}\nplans:\n"))
    r = run(["check", "sites/t"], tmp_path)
    assert r.exit_code == 1 and "site.yaml:20:21: error[MTV001]: throughput.perVM: 'fast' must be a rate such as " \
                                "150MiB/s" in r.output
    assert d.exists()


def test_the_summary_draws_the_estimate_and_marks_an_overrun(tmp_path):
    _site(tmp_path, in_flight=1)
    assert run(["build", "--now", NOW], tmp_path).exit_code == 0
    text = run(["summary", "sites/t", "--now", NOW], tmp_path).stdout
    assert "    wave1 :w1, 2027-01-09T20:00, 30m\n    estimate (overrun) :crit, e1, 2027-01-09T20:00, 34m\n" in text
