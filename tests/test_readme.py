"""README's generated sections (check catalog, broken-example output) are current."""

import subprocess
import sys

import pytest

from conftest import ROOT


def test_readme_is_current():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "update-readme"), "--check"])
    assert r.returncode == 0, "run scripts/update-readme"


def test_the_limits_the_readme_states_are_the_ones_enforced():
    """Each bound in README "Limits" is the constant the code enforces: raising or
    dropping one (a planted bug) fails here, not only in a test that patches it smaller."""
    from compiler import lock, spec, yamlio
    from compiler.inventory import snapshot
    text = (ROOT / "README.md").read_text()
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `") or
            line.startswith("| inventory snapshot")}
    assert "4 MiB" in rows["`site.yaml`"] and spec.MAX_SPEC_BYTES == 4 * 1024 * 1024
    assert "at most 1,000,000 values" in rows["`site.yaml`"] and yamlio.MAX_NODES == 1_000_000
    assert "nesting at most 50 levels" in rows["`site.yaml`"] and yamlio.MAX_DEPTH == 50
    assert "512 MiB" in rows["`mtvgen.lock`"] and lock.MAX_LOCK_BYTES == 512 * 1024 * 1024
    snap = rows["inventory snapshot (YAML or JSON)"]
    assert "at most 100,000,000 values" in snap and snapshot.SNAPSHOT_MAX_NODES == 100_000_000


def test_a_lock_over_512_mib_is_refused_before_it_is_read(tmp_path):
    """At the real bound, with a sparse file: nothing is read into memory."""
    import sitekit
    from compiler import lock, spec
    from compiler.errors import LockError
    d = sitekit.make(tmp_path)
    with open(d / "mtvgen.lock", "wb") as fh:
        fh.truncate(512 * 1024 * 1024 + 1)
    with pytest.raises(LockError, match="the lock is 536,870,913 bytes; the limit is 536,870,912"):
        lock.read(spec.load(d))


def test_the_plan_api_table_has_every_upstream_plan_field_once():
    """The generated table's sense, against the upstream Plan CRD (../shared/crds): each
    field of Plan.spec and Plan.spec.vms[] has one row, and no row names a field it lacks."""
    import re
    import yaml
    crd = yaml.safe_load((ROOT.parent / "shared/crds/forklift.konveyor.io_plans.yaml").read_text())
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    vm_fields = set(spec["vms"]["items"]["properties"])
    rows = re.findall(r"^\| `spec\.([A-Za-z0-9\[\].]+)` \|", (ROOT / "README.md").read_text(), re.M)
    assert len(rows) == len(set(rows)), sorted(r for r in rows if rows.count(r) > 1)
    top = {r for r in rows if not r.startswith("vms[].")}
    per_vm = {r.removeprefix("vms[].") for r in rows if r.startswith("vms[].")}
    assert top == set(spec)
    assert vm_fields - per_vm - top == set() and per_vm <= vm_fields
