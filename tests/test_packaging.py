"""A wheel carries schemas/ and templates/ and builds a site outside the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from conftest import NOW, ROOT, tree


def test_wheel_builds_sites_outside_the_checkout(tmp_path):
    wheels = tmp_path / "wheels"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                        "-w", str(wheels), str(ROOT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    target = tmp_path / "installed"
    wheel = next(wheels.glob("mtvgen-*.whl"))
    # what scripts/package builds and Containerfile installs: this name, runtime requirements only
    import tomllib
    import zipfile
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert wheel.name == f"mtvgen-{version}-py3-none-any.whl"
    assert "COPY dist/mtvgen-${VERSION}-py3-none-any.whl" in (ROOT / "Containerfile").read_text()
    meta = zipfile.ZipFile(wheel).read(f"mtvgen-{version}.dist-info/METADATA").decode()
    unconditional = [ln for ln in meta.splitlines() if ln.startswith("Requires-Dist:") and "extra ==" not in ln]
    assert unconditional and not any(t in ln for ln in unconditional for t in ("pytest", "hypothesis", "kubectl"))
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    work = tmp_path / "elsewhere"
    shutil.copytree(ROOT / "sites", work / "sites")
    env = {**os.environ, "PYTHONPATH": str(target)}
    # every module the command line loads, and the data, must come from the wheel: the
    # checkout's editable install would otherwise stand in for a package the wheel lacks
    probe = subprocess.run([sys.executable, "-c", "import sys, compiler.cli, compiler.resources as r;"
                            "print(*[m.__file__ for n, m in sys.modules.items() if n.split('.')[0] == 'compiler'"
                            " and getattr(m, '__file__', None)]); print(r.schemas_dir()); print(r.templates_dir())"],
                           cwd=work, env=env, capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    for line in probe.stdout.split():
        assert line.startswith(str(target)), f"{line} is not from the wheel"
    r = subprocess.run([sys.executable, "-m", "compiler.cli", "health-checks"], cwd=work, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.count("resource.customizations.health.") == 8, r.stderr
    r = subprocess.run([sys.executable, "-m", "compiler.cli", "build", "--now", NOW], cwd=work, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert tree(work / "out") == tree(ROOT / "out")
