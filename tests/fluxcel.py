"""Flux's own CEL evaluation for the tests: e2e/flux (flux-cel), built by scripts/build-go
from fluxcd/pkg/runtime/cel. One process per test module, a JSON request a line."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from compiler.delivery import health
from conftest import ROOT

FLUX_CEL = ROOT / ".cache" / "bin" / "flux-cel"


class FluxCel:
    def __init__(self):
        self.proc = subprocess.Popen([str(FLUX_CEL)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, request: dict) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def health(self, kind: str, obj: dict) -> str:
        """The status kustomize-controller's health check reads for `obj` under the entry a
        Kustomization carries for its kind. kstatus Unknown (an expression that cannot
        evaluate yet, say before `status` exists) keeps Flux waiting exactly as InProgress
        does: both read as InProgress."""
        [check] = health.health_check_exprs([kind])
        out = self.ask({"healthCheck": check, "object": obj})
        assert "error" not in out, out
        return "InProgress" if out["status"] == "Unknown" else out["status"]

    def ready(self, expr: str, self_obj: dict, dep: dict) -> bool:
        """A dependsOn readyExpr, compiled and evaluated as kustomize-controller does."""
        out = self.ask({"readyExpr": expr, "self": self_obj, "dep": dep})
        assert "error" not in out, out
        return out["ready"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def running():
    """A pytest fixture body: the evaluator, or a failure under CI when it is not built."""
    if not FLUX_CEL.exists():
        if os.environ.get("CI"):
            pytest.fail("flux-cel (e2e/flux) is not built; scripts/test builds it (scripts/build-go)")
        pytest.skip("run scripts/build-go first")
    evaluator = FluxCel()
    yield evaluator
    evaluator.close()
