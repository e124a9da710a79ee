"""The README's quick start, run as written: each line of its shell block in a scratch
Git repository, against the vCenter simulator (the source) and the real kube-apiserver
(the cluster), then the wave synced by Argo CD's own sync engine.

What differs from a user's machine is only what the environment says, never the
lines: mtvgen comes from this checkout (the install line is not run), the vCenter
URL and user are the simulator's, its CA is trusted through SSL_CERT_FILE as a
system trust store would, `git push` goes to a local bare repository, and Argo CD's
namespace and argocd-cm exist as its install leaves them."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml

import vcsim
from conftest import ROOT
from .test_argocd_sync import scripts, sync_with_controllers, unit_docs  # noqa: F401  (a fixture)

BEGIN, END = "<!-- quickstart:begin -->", "<!-- quickstart:end -->"
README_URL = "https://vcenter.example.com/sdk"


def quickstart() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split(BEGIN, 1)[1].split(END, 1)[0]
    return [line for line in block.strip().strip("`").removeprefix("sh").strip().splitlines() if line.strip()]


def test_the_quick_start_has_ten_commands():
    lines = quickstart()
    assert len(lines) == 10 and lines[0].startswith("pip install ")


def test_the_quick_start_runs_as_written(controlplane, scripts, tmp_path):  # noqa: F811
    if not vcsim.BINARY.exists():
        pytest.fail("vcsim is not built; scripts/test builds it (scripts/build-go)")
    cp = controlplane
    for ns in ("argocd", "openshift-mtv"):          # Argo CD and MTV are installed
        cp.kubectl("create", "namespace", ns, check=False)
    cp.kubectl("-n", "argocd", "create", "configmap", "argocd-cm", check=False)
    cp.kubectl("delete", "namespace", "shop", "--ignore-not-found", "--wait")
    repo, origin = tmp_path / "migrations", tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(["git", "remote", "add", "origin", str(origin)], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "empty"], cwd=repo, check=True,
                   env={**os.environ, **_git_identity()})
    subprocess.run(["git", "push", "-q", "-u", "origin", "main"], cwd=repo, check=True)
    with vcsim.running() as sim:
        env = {**os.environ, **_git_identity(), "KUBECONFIG": str(cp.kubeconfig), "SSL_CERT_FILE": sim.cert,
               "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}
        for n, line in enumerate(quickstart(), 1):
            if line.startswith("pip install "):
                continue                      # mtvgen is this checkout's (tests/test_packaging.py: the wheel)
            line = line.replace(README_URL, sim.url)
            line = re.sub(r"VSPHERE_USER=\S+ VSPHERE_PASSWORD=\S+",
                          f"VSPHERE_USER={vcsim.USER} VSPHERE_PASSWORD={vcsim.PASSWORD}", line)
            if line.startswith("export "):
                env.update(dict(kv.split("=", 1) for kv in line.removeprefix("export ").split()))
                continue
            r = subprocess.run(["bash", "-euo", "pipefail", "-c", line], cwd=repo, env=env, capture_output=True,
                               text=True, timeout=300)
            assert r.returncode == 0, f"quick start line {n}: {line}\n{r.stdout}\n{r.stderr}"
    spec = yaml.safe_load((repo / "sites/shop/site.yaml").read_text())
    assert spec["plans"][0]["name"] == "vms" and spec["plans"][0]["start"] is True
    assert "# TODO" not in (repo / "sites/shop/site.yaml").read_text()
    pushed = subprocess.run(["git", "log", "--format=%s", "origin/main"], cwd=repo, capture_output=True,
                            text=True, check=True).stdout.split("\n")
    assert pushed[:2] == ["shop: start vms", "shop: first lock"]
    # what Argo CD now has: its health checks, the right to create VMs in shop, the root
    cm = yaml.safe_load(cp.kubectl("-n", "argocd", "get", "configmap", "argocd-cm", "-o", "yaml").stdout)
    assert "resource.customizations.health.forklift.konveyor.io_Plan" in cm["data"]
    can = cp.kubectl("auth", "can-i", "create", "virtualmachines.kubevirt.io", "-n", "shop",
                     "--as", "system:serviceaccount:argocd:argocd-application-controller", check=False)
    assert can.stdout.strip() == "yes", can.stderr
    root = yaml.safe_load(cp.kubectl("-n", "argocd", "get", "application", "shop-root", "-o", "yaml").stdout)
    assert root["spec"]["source"]["path"] == "out/shop/argocd"
    # the root's children, as Argo CD's sync engine applies them: shared, then the plan
    for unit in ("shared", "plans/vms/plan"):
        code, result, _ = sync_with_controllers(cp, unit_docs(cp, repo / "out/shop" / unit), scripts)
        assert (code, result["phase"]) == (0, "Succeeded"), (unit, result)
    run = unit_docs(cp, repo / "out/shop/plans/vms/run")
    assert [d["kind"] for d in run] == ["Migration"] and run[0]["metadata"]["name"] == "shop-vms-1"
    cp.kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump_all(run))
    r = subprocess.run([str(ROOT / ".venv/bin/mtvgen"), "status", "shop", "-o", "json"], cwd=repo, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert '"migration": "shop-vms-1"' in r.stdout


def _git_identity() -> dict:
    return {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com"}
