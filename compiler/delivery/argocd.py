"""Argo CD: sync annotations on every object, and the Applications of a site.

An app-of-apps root per site, not an ApplicationSet, because:
- the shared unit (credentials, Providers, maps, hooks) must be Healthy before a
  plan first syncs, or Forklift's webhooks refuse the Plan. The root orders its
  child Applications by sync wave and waits on their health (with the
  Application health check `mtvgen health-checks` installs); an ApplicationSet
  orders nothing unless Progressive Syncs, off by default, are turned on;
- units need different sync policies (self-heal off for plans, below), which
  a generated template would have to encode in directory names;
- each Application is a file in the pull request, checked offline against the
  Application CRD like everything else mtvgen writes.
Many sites and clusters from one repository: each site's root names its own
destination; Argo CD on a hub distributes them.

In: the site and its units. Out: Documents for out/<site>/argocd/ and the
root Application for out/<site>/bootstrap/.
"""

from __future__ import annotations

from datetime import timezone

from .. import lifecycle
from ..documents import Document, labels
from ..names import to_label
from ..sitemodel import Site
from ..tables import KINDS
from .units import HOSTS, SHARED, Unit

IN_CLUSTER = "https://kubernetes.default.svc"
APP_API = KINDS["Application"].api_version

# Nothing mtvgen writes is ever deleted by Argo CD: deleting a Plan, a map or a
# Provider while a run uses it cancels the run (Forklift matches a running
# migration to the UIDs of its plan, maps and providers), and a Plan's deletion
# removes PVCs not yet owned by a VM. Removing an object from Git retires it;
# IgnoreExtraneous keeps the Application in sync afterwards.
OBJECT_SYNC_OPTIONS = "Prune=false,Delete=false"
OBJECT_COMPARE_OPTIONS = "IgnoreExtraneous"
RETRY = {"limit": 10, "backoff": {"duration": "30s", "factor": 2, "maxDuration": "10m"}}


def annotate(doc: Document) -> None:
    ann = doc.body["metadata"].setdefault("annotations", {})
    ann["argocd.argoproj.io/sync-wave"] = str(KINDS[doc.kind].wave)
    ann["argocd.argoproj.io/sync-options"] = OBJECT_SYNC_OPTIONS
    ann["argocd.argoproj.io/compare-options"] = OBJECT_COMPARE_OPTIONS


def app_name(site: str, unit: str) -> str:
    """The Application of a site's unit (`run-web-02`); the summary finds a run's window by it."""
    return to_label(f"{site}-{unit}")


def _meta(site: Site, name: str, namespace: str, wave: int | None = None, plan: str = "") -> dict:
    meta = {"name": name, "namespace": namespace, "labels": labels(site.name, plan)}
    if wave is not None:
        meta["annotations"] = {"argocd.argoproj.io/sync-wave": str(wave)}
    return meta


def _application(site: Site, name: str, path: str, wave: int, *, self_heal: bool, plan: str = "",
                 options: tuple[str, ...] = ()) -> dict:
    d, a = site.delivery, site.delivery.argocd
    meta = _meta(site, name, a.namespace, wave, plan)
    # a commit elsewhere in the repository neither refreshes nor re-syncs this unit
    meta["annotations"]["argocd.argoproj.io/manifest-generate-paths"] = "."
    policy = {"automated": {"prune": False, "selfHeal": self_heal}, "retry": RETRY}
    if options:
        policy["syncOptions"] = list(options)
    return {"apiVersion": APP_API, "kind": "Application", "metadata": meta,
            "spec": {"project": a.project,
                     "source": {"repoURL": d.repo_url, "targetRevision": d.revision, "path": path},
                     "destination": {**a.destination, "namespace": site.mtv_namespace},
                     "syncPolicy": policy}}


def _project(site: Site) -> dict:
    d, a = site.delivery, site.delivery.argocd
    kinds = [{"group": "forklift.konveyor.io", "kind": "*"}, {"group": "", "kind": "Secret"},
             {"group": "external-secrets.io", "kind": "ExternalSecret"}, {"group": "bitnami.com", "kind": "SealedSecret"}]
    spec = {"description": f"mtvgen site {site.name}: Forklift objects in {site.mtv_namespace}",
            "sourceRepos": [d.repo_url],
            "destinations": [{**a.destination, "namespace": site.mtv_namespace}],
            "namespaceResourceWhitelist": kinds}
    windows = [_window(site, w) for w in a.windows] + _wave_windows(site)
    if windows:
        spec["syncWindows"] = windows
    return {"apiVersion": APP_API, "kind": "AppProject", "metadata": _meta(site, a.project, a.namespace, 0), "spec": spec}


def _window(site: Site, w: dict) -> dict:
    """A change window confines the run Applications only: Plans may be created and
    validated at any time, Migrations (a start, a retry) sync inside the window."""
    apps = [app_name(site.name, f"run-{p}") for p in w.get("plans", [])] or [app_name(site.name, "run") + "-*"]
    out = {"kind": w["kind"], "schedule": w["schedule"], "duration": w["duration"], "applications": apps}
    if "timeZone" in w:
        out["timeZone"] = w["timeZone"]
    if "manualSync" in w:
        out["manualSync"] = w["manualSync"]
    return out


def _wave_windows(site: Site) -> list[dict]:
    """Each wave's window, as an allow window for the run Applications of its plans. A
    date becomes a yearly cron in UTC (Argo CD windows are cron schedules); retired plans
    have no Application to confine."""
    out = []
    for number, wave in sorted(site.waves.items()):
        start = lifecycle.window_start(wave)
        plans = [p.name for p in lifecycle.live(site) if p.wave == number]
        if start is None or not plans:
            continue
        t = start.astimezone(timezone.utc)
        # manualSync: the window holds back automated syncs (a start merged early waits for it),
        # while a person can deliver a stop at any time: `argocd app sync <site>-run-<plan>`
        # after merging a cancel or a moved cutover (README "Stops at any time")
        out.append({"kind": "allow", "schedule": f"{t.minute} {t.hour} {t.day} {t.month} *", "duration": wave.duration,
                    "applications": [app_name(site.name, f"run-{p}") for p in plans], "timeZone": "UTC",
                    "manualSync": True})
    return out


def documents(site: Site, units: list[Unit]) -> tuple[list[Document], list[Document]]:
    """(the children under out/<site>/argocd/, the root under out/<site>/bootstrap/)."""
    d, a = site.delivery, site.delivery.argocd
    base = f"{d.path}/{site.name}"
    where = a.where
    bodies = []
    if a.create_project:
        bodies.append(_project(site))
    keys = {u.key for u in units}
    # Wave 1 is waited on (shared must be Healthy before any plan's first sync); wave 2 is
    # the last wave, applied and not waited on, so a failing plan or host never blocks another.
    bodies.append(_application(site, app_name(site.name, SHARED), f"{base}/{SHARED}", 1, self_heal=True))
    if HOSTS in keys:
        bodies.append(_application(site, app_name(site.name, HOSTS), f"{base}/{HOSTS}", 2, self_heal=True))
    for u in units:
        if not u.plan:
            continue
        kind = u.key.partition(":")[0]            # plan | run
        # Server-side apply: a Plan of thousands of VMs does not fit the 256 KiB
        # last-applied-configuration annotation. Self-heal off for runs: deleting a Migration is
        # how Forklift cancels a run, and self-heal would re-create it at once as a new run.
        # A run Application created with its Plan may find the Plan missing (Forklift's webhook
        # refuses the Migration): its retry applies it once the plan Application has.
        bodies.append(_application(site, app_name(site.name, f"{kind}-{u.plan}"), f"{base}/{u.path}", 2,
                                   self_heal=kind == "plan", plan=u.plan,
                                   options=("ServerSideApply=true",) if kind == "plan" else ()))
    children = [Document(b["kind"], b["metadata"]["name"], b["metadata"]["namespace"], b, where) for b in bodies]
    root = {"apiVersion": APP_API, "kind": "Application", "metadata": _meta(site, app_name(site.name, "root"), a.namespace),
            "spec": {"project": a.root_project,
                     "source": {"repoURL": d.repo_url, "targetRevision": d.revision, "path": f"{base}/argocd"},
                     "destination": {"server": IN_CLUSTER, "namespace": a.namespace},
                     # the children carry no resources finalizer: pruning a retired plan's Application
                     # leaves everything it applied in place
                     "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "retry": RETRY}}}
    return children, [Document("Application", root["metadata"]["name"], a.namespace, root, where)]
