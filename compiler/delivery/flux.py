"""Flux: one Kustomization per sync unit, chained by dependsOn.

kustomize-controller dry-runs a whole Kustomization server-side before it
applies any of it, and Forklift's webhooks refuse a Plan whose Providers do not
exist and a Migration whose Plan does not exist. So: shared (credentials,
Providers, maps, hooks) <- each plan's `plan` unit (its maps and the Plan) <-
its `run` unit (the Migrations); Hosts hang off shared and gate nothing.
Every Kustomization waits for health with healthCheckExprs (delivery/health.py)
for the Forklift kinds it applies; a plan counts as ready when it can run, so
the `run` unit of a retry is never held up by the failed run before it.

A `run` unit waits for its plan unit only until that has applied the Plan (the
Migration webhook needs it), not for the Plan's health: a running plan that turns
unhealthy (a VM gone from the source) must not hold back a cancel or a new cutover.
So its dependsOn carries a readyExpr (kustomize-controller v1.7 on), which replaces
the built-in readiness check of the dependency.

In: the site and its units. Out: Documents for out/<site>/flux/ and, for
out/<site>/bootstrap/, the root Kustomization (and a GitRepository unless the
spec names a source).
"""

from __future__ import annotations

import re

from ..documents import Document, labels
from ..names import to_label
from ..sitemodel import Site
from ..tables import KINDS
from .health import health_check_exprs
from .units import Unit

KS_API = KINDS["Kustomization"].api_version
PRUNE_DISABLED = {"kustomize.toolkit.fluxcd.io/prune": "disabled"}


def annotate(doc: Document) -> None:
    """Never garbage-collected by Flux: see argocd.OBJECT_SYNC_OPTIONS for why."""
    doc.body["metadata"].setdefault("annotations", {}).update(PRUNE_DISABLED)


def ks_name(site: Site, unit: Unit) -> str:
    kind, _, plan = unit.key.partition(":")
    return to_label(f"{site.name}-{kind}-{plan}" if plan else f"{site.name}-{kind}")


def _source_ref(site: Site) -> dict:
    f = site.delivery.flux
    return dict(f.source_ref) if f.source_ref else {"kind": "GitRepository", "name": to_label(f"mtv-{site.name}")}


def plan_applied(plan_doc: Document) -> str:
    """readyExpr of a run unit's dependency on its plan unit: the Plan is in the plan
    unit's inventory (entries are `<namespace>_<name>_<group>_<kind>`, kustomize-controller
    api/v1/inventory_types.go ResourceRef.ID; recorded after the apply, before the health
    checks: internal/controller/kustomization_controller.go sets Status.Inventory before
    checkHealth)."""
    group = KINDS["Plan"].api_version.split("/")[0]
    entry = f"{plan_doc.namespace}_{plan_doc.name}_{group}_Plan"
    return (f"has(dep.status) && has(dep.status.inventory) && "
            f"dep.status.inventory.entries.exists(e, e.id == '{entry}')")


def _meta(site: Site, name: str, plan: str = "") -> dict:
    return {"name": name, "namespace": site.delivery.flux.namespace, "labels": labels(site.name, plan)}


def _kustomization(site: Site, name: str, path: str, *, depends_on=(), kinds=(), plan: str = "",
                   prune: bool = True, sops: bool = False) -> dict:
    f = site.delivery.flux
    spec = {"interval": f.interval, "retryInterval": "1m", "timeout": f.timeout, "path": f"./{path}",
            "prune": prune, "sourceRef": _source_ref(site)}
    if depends_on:
        spec["dependsOn"] = [n if isinstance(n, dict) else {"name": n} for n in depends_on]
    exprs = health_check_exprs(kinds)
    if kinds:
        spec["wait"] = True
    if exprs:
        spec["healthCheckExprs"] = exprs
    if sops:
        spec["decryption"] = {"provider": "sops", "secretRef": {"name": f.sops_secret}}
    if f.kube_config_secret:
        spec["kubeConfig"] = {"secretRef": {"name": f.kube_config_secret}}
    if f.service_account:
        spec["serviceAccountName"] = f.service_account
    return {"apiVersion": KS_API, "kind": "Kustomization", "metadata": _meta(site, name, plan), "spec": spec}


def documents(site: Site, units: list[Unit]) -> tuple[list[Document], list[Document]]:
    """(the Kustomizations under out/<site>/flux/, the bootstrap objects)."""
    d, f = site.delivery, site.delivery.flux
    base = f"{d.path}/{site.name}"
    names = {u.key: ks_name(site, u) for u in units}
    plans = {u.key: next(doc for doc in u.docs if doc.kind == "Plan") for u in units if u.key.startswith("plan:")}
    bodies = []
    for u in units:
        sops = any(doc.kind == "Secret" and doc.verbatim is not None for doc in u.docs)
        depends_on = [{"name": names[k], "readyExpr": plan_applied(plans[k])} if k in plans and u.key.startswith("run:")
                      else names[k] for k in u.depends_on]
        bodies.append(_kustomization(site, names[u.key], f"{base}/{u.path}", depends_on=depends_on,
                                     kinds=u.kinds, plan=u.plan, sops=sops))
    children = [Document("Kustomization", b["metadata"]["name"], f.namespace, b, f.where) for b in bodies]
    # the root applies the Kustomizations above; pruning one of a retired plan leaves its objects
    # in place, because every one of them is annotated prune: disabled
    root = _kustomization(site, to_label(f"mtv-{site.name}"), f"{base}/flux")
    boot = [Document("Kustomization", root["metadata"]["name"], f.namespace, root, f.where)]
    if not f.source_ref:
        ref = {"commit": d.revision} if re.fullmatch(r"[0-9a-f]{40}", d.revision) else {"branch": d.revision}
        repo = {"apiVersion": KINDS["GitRepository"].api_version, "kind": "GitRepository",
                "metadata": _meta(site, _source_ref(site)["name"]),
                "spec": {"interval": f.interval, "url": d.repo_url, "ref": ref}}
        boot.insert(0, Document("GitRepository", repo["metadata"]["name"], f.namespace, repo, f.where))
    return children, boot
