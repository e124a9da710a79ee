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


def test_the_largest_start_first_and_share_the_total_rate():
    model = throughput.Model(per_vm=1 * GIB, total=2 * GIB, in_flight=2)
    took, ends = throughput.estimate([2 * GIB, 4 * GIB, 2 * GIB], model)
    # 4 and the first 2 start (largest first); the 2 ends at 2 s, the other 2 starts; both end at 4 s
    assert (took, ends) == (4.0, [2.0, 4.0, 4.0])
    # one slot: one copy after the other; each conversion follows its copy, out of the slot
    took, ends = throughput.estimate([GIB, GIB], throughput.Model(GIB, 10 * GIB, 1, conversion=60))
    assert (took, ends) == (62.0, [61.0, 62.0])
    # the total caps them: 4 at once of 1 GiB/s each share 2 GiB/s
    took, _ = throughput.estimate([GIB] * 4, throughput.Model(GIB, 2 * GIB, 4))
    assert took == 2.0


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
                            "(declared), 1 at a time, the largest first), longer than its 30m window; ending after it: beta")


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
