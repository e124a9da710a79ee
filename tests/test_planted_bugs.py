"""scripts/planted-bugs stays runnable: each bug it plants is found exactly once in the
code it names (a refactor that moves the line makes the table stale, and this fails)."""

from __future__ import annotations

import runpy

import pytest

from conftest import ROOT

BUGS = runpy.run_path(str(ROOT / "scripts" / "planted-bugs"), run_name="planted_bugs")["BUGS"]


@pytest.mark.parametrize("what,rel,old,new,tests", BUGS, ids=[b[0] for b in BUGS])
def test_each_planted_bug_still_has_its_line(what, rel, old, new, tests):
    assert (ROOT / rel).read_text().count(old) == 1, f"{what}: update scripts/planted-bugs"
    assert old != new
    assert all((ROOT / t).exists() for t in tests.split())
