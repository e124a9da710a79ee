"""README's generated sections (check catalog, broken-example output) are current."""

import shutil
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


def test_the_spec_reference_has_every_field_of_the_schema_and_says_what_each_does():
    """Walk the schema itself: every object's every property is a row of the reference,
    under a section for that object, with a description (README: Spec reference)."""
    import json
    import runpy
    gen = runpy.run_path(str(ROOT / "scripts" / "update-readme"))
    reference = gen["spec_reference"]()
    schema = json.loads((ROOT / "schemas" / "site.schema.json").read_text())
    missing, undescribed = [], []

    def walk(node, path):
        if not isinstance(node, dict):
            return
        for key, value in (node.get("properties") or {}).items():
            if f"| `{key}`" not in reference:
                missing.append(f"{path}.{key}")
            if not (isinstance(value, dict) and value.get("description")):
                undescribed.append(f"{path}.{key}")
            walk(value, f"{path}.{key}")
        for alt in node.get("oneOf", []) + node.get("allOf", []):
            walk(alt, path)
        walk(node.get("items"), path + "[]")
        walk(node.get("additionalProperties"), path + ".*")

    walk(schema, "")
    for name, node in schema["$defs"].items():
        walk(node, f"$defs.{name}")
    assert missing == [] and undescribed == []
    sections = [line for line in reference.splitlines() if line.startswith("#### ")]
    assert len(sections) == len(set(sections)) == len(gen["SECTIONS"])


def test_the_readmes_site_example_locks_and_checks_clean(tmp_path):
    """The first spec a reader copies (README, "A site") must work: it failed MTV068 once
    (an ESXi host without credentials). Locked against the dc1 example's inventory."""
    from conftest import run
    text = (ROOT / "README.md").read_text()
    example = text.split("## A site\n", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    site = tmp_path / "sites" / "ex"
    shutil.copytree(ROOT / "sites" / "dc1" / "hooks", site / "hooks")
    (site / "site.yaml").write_text(example)
    r = run(["lock", "sites/ex", "--inventory", str(ROOT / "sites" / "dc1" / "inventory.yaml")], tmp_path)
    assert r.exit_code == 0, r.output
    r = run(["check", "sites/ex", "--strict", "--now", "2026-11-27T00:00:00+00:00"], tmp_path)
    assert r.exit_code == 0 and "0 error(s), 0 warning(s)" in r.output, r.output
