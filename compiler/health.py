"""Argo CD health checks for the Forklift kinds (templates/health/*.lua).

Argo CD ships none for forklift.konveyor.io, so without these a sync wave
"passes" as soon as an object exists. Each script is the shared prelude plus
the kind's body (Argo CD runs every script on its own, so they cannot import).
"""

from __future__ import annotations

from . import resources, yamlio
from .tables import KINDS

GROUP = "forklift.konveyor.io"


def scripts() -> dict[str, str]:
    folder = resources.templates_dir() / "health"
    prelude = (folder / "prelude.lua").read_text(encoding="utf-8")
    return {k.kind: prelude + "\n" + (folder / k.health).read_text(encoding="utf-8")
            for k in KINDS.values() if k.health}


def argocd_cm() -> str:
    """A patch for the argocd-cm ConfigMap (upstream Argo CD)."""
    data = {f"resource.customizations.health.{GROUP}_{kind}": text for kind, text in scripts().items()}
    return yamlio.dump({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "argocd-cm", "namespace": "argocd",
                                     "labels": {"app.kubernetes.io/part-of": "argocd"}},
                        "data": data})


def openshift_gitops() -> str:
    """A merge patch for the OpenShift GitOps `ArgoCD` resource (spec.resourceHealthChecks)."""
    checks = [{"group": GROUP, "kind": kind, "check": text} for kind, text in scripts().items()]
    return yamlio.dump({"apiVersion": "argoproj.io/v1beta1", "kind": "ArgoCD",
                        "metadata": {"name": "openshift-gitops", "namespace": "openshift-gitops"},
                        "spec": {"resourceHealthChecks": checks}})


FORMATS = {"argocd-cm": argocd_cm, "openshift-gitops": openshift_gitops}
