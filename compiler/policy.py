"""The repository's policy for privileged settings: what one site's pull request may
point Argo CD, Flux and Forklift at. In a GitOps repository the pull request is the
security boundary: what merges into out/ is applied with wide rights, so a site may
not choose its own Git path, cluster, AppProject, namespaces, source hosts, hook
images or TLS shortcuts beyond what the policy allows.

The policy is `mtvgen-policy.yaml` beside the site directories (sites/), owned by
someone else than the sites (CODEOWNERS). Without one, the safe defaults hold: the
delivery path is the build's own output, no `..`; never Argo CD's `default` project
and no project mtvgen does not create for the site; the in-cluster destination only;
no Flux source, kubeconfig or service account of the site's choosing; no system
namespace; plain HTTP and insecureSkipVerify are errors; a hook may not run as the
Forklift controller.

In: a loaded Site and the Policy. Out: Diagnostics at the spec lines (MTV143-145).
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import msgspec

from . import yamlio
from .diagnostics import ERROR, WARNING, Diagnostic
from .errors import Location, MtvgenError
from .sitemodel import Site
from .urls import http_url

POLICY_FILE = "mtvgen-policy.yaml"
IN_CLUSTER = "https://kubernetes.default.svc"
# namespaces a site must never write to (its MTV namespace, or a plan's target)
SYSTEM_NAMESPACES = ("default", "kube-*", "openshift", "openshift-*", "argocd", "flux-system", "cert-manager")
# service accounts a hook must never run as: the controllers' own
CONTROLLER_ACCOUNTS = ("forklift-controller", "forklift-api", "*-controller", "*-operator", "default")


class Policy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel"):
    """Lists of what sites may use; patterns are shell globs. An empty list keeps the default."""
    repositories: tuple[str, ...] = ()           # delivery.repoURL
    paths: tuple[str, ...] = ()                  # delivery.path (default: the build's output, `out`)
    projects: tuple[str, ...] = ()               # Argo CD projects mtvgen does not create
    clusters: tuple[str, ...] = ()               # Argo CD destination server or name
    flux_sources: tuple[str, ...] = ()           # "Kind/namespace/name" of a delivery.flux.sourceRef
    flux_kube_configs: tuple[str, ...] = ()      # delivery.flux.kubeConfigSecret
    flux_service_accounts: tuple[str, ...] = ()  # delivery.flux.serviceAccountName
    namespaces: tuple[str, ...] = ()             # namespaces allowed beyond the defaults' reach
    source_hosts: tuple[str, ...] = ()           # hosts of source URLs (default: any)
    hook_images: tuple[str, ...] = ()            # default: any (the summary shows each change)
    hook_service_accounts: tuple[str, ...] = ()
    allow_http: bool = False
    allow_insecure_tls: bool = False
    max_units: int = 5000                        # Applications or Kustomizations one site may write
    file: str = ""


def load(sites_dir: Path) -> Policy:
    path = Path(sites_dir) / POLICY_FILE
    if not path.is_file():
        return Policy()
    raw, shown = yamlio.load_file(path, "restore it from Git; it is owned in CODEOWNERS")
    doc = yamlio.plain(raw) or {}
    try:
        return msgspec.convert({**doc, "file": shown}, Policy)
    except msgspec.ValidationError as exc:
        raise MtvgenError(f"policy {shown}: {exc}", where=Location(shown),
                          fix="keys: repositories, paths, projects, clusters, fluxSources, fluxKubeConfigs, "
                              "fluxServiceAccounts, namespaces, sourceHosts, hookImages, hookServiceAccounts "
                              "(lists of globs), allowHttp, allowInsecureTls (booleans)") from None


def _any(value: str, patterns) -> bool:
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


def check(site: Site, policy: Policy, out_dir: str = "out"):
    by = f"the policy ({policy.file})" if policy.file else f"no {POLICY_FILE} allows it"
    where = lambda *path: yamlio.locate(site.raw, list(path), site.file)  # noqa: E731
    d = site.delivery
    if d is not None:
        if ".." in d.path.split("/") or d.path.startswith("/"):
            yield Diagnostic("MTV143", f"delivery.path {d.path!r} leaves the repository's build output",
                             where("delivery", "path"), "drop the `..`: Applications must point at what mtvgen built")
        elif not _any(d.path, policy.paths or (out_dir,)):
            yield Diagnostic("MTV143", f"delivery.path {d.path!r} is not where mtvgen writes the build ({out_dir}); "
                             f"{by}", where("delivery", "path"), "leave delivery.path out, or add it to the policy")
        if policy.repositories and not _any(d.repo_url, policy.repositories):
            yield Diagnostic("MTV143", f"delivery.repoURL {d.repo_url!r} is not a repository the policy allows",
                             where("delivery", "repoURL"), f"allowed: {', '.join(policy.repositories)}")
        a = d.argocd
        if a is not None:
            if a.project == "default":
                yield Diagnostic("MTV143", "delivery.argocd.project is `default`: Argo CD's own project reaches "
                                 "every cluster and namespace (and an AppProject named default would replace it)",
                                 where("delivery", "argocd", "project") if "project" in (site.raw["delivery"].get(
                                     "argocd") or {}) else a.where, "leave project out: mtvgen writes mtv-<site>")
            elif not a.create_project and not _any(a.project, policy.projects):
                yield Diagnostic("MTV143", f"delivery.argocd.project {a.project!r} is a project mtvgen does not "
                                 f"create for this site; {by}", a.where,
                                 "let mtvgen create the site's project, or list the project in the policy")
            target = a.destination.get("server") or a.destination.get("name", "")
            if target != IN_CLUSTER and not _any(target, policy.clusters):
                yield Diagnostic("MTV143", f"delivery.argocd.destination {target!r} is another cluster; {by}",
                                 a.where, "list the cluster in the policy's `clusters`")
        f = d.flux
        if f is not None:
            if f.source_ref is not None:
                ref = f"{f.source_ref.get('kind', '')}/{f.source_ref.get('namespace', f.namespace)}/" \
                      f"{f.source_ref.get('name', '')}"
                if not _any(ref, policy.flux_sources):
                    yield Diagnostic("MTV143", f"delivery.flux.sourceRef {ref} is a source of the site's choosing; {by}",
                                     f.where, "leave sourceRef out (mtvgen writes a GitRepository for repoURL), or "
                                     "list the source in the policy's `fluxSources` as Kind/namespace/name")
            for key, value, allowed, what in (
                    ("kubeConfigSecret", f.kube_config_secret, policy.flux_kube_configs, "another cluster's kubeconfig"),
                    ("serviceAccountName", f.service_account, policy.flux_service_accounts, "an identity to apply as")):
                if value and not _any(value, allowed):
                    yield Diagnostic("MTV143", f"delivery.flux.{key} {value!r} picks {what}; {by}", f.where,
                                     f"list it in the policy, or leave {key} out")
    for label, ns, loc in [("mtvNamespace", site.mtv_namespace, where("mtvNamespace") if "mtvNamespace" in site.raw
                            else None), ("targetNamespace", site.target_namespace, where("targetNamespace"))] + \
            [(f"plan '{p.name}' targetNamespace", p.target_namespace, p.option_where("targetNamespace"))
             for p in site.spec_plans if p.target_namespace != site.target_namespace]:
        if ns == "openshift-mtv" and label == "mtvNamespace":
            continue          # MTV's own namespace: where Providers and Plans belong
        if _any(ns, SYSTEM_NAMESPACES) and not _any(ns, policy.namespaces):
            yield Diagnostic("MTV144", f"{label} {ns!r} is a system namespace; {by}", loc or site.source.where,
                             "use a namespace of the site's own, or list it in the policy's `namespaces`")
    for label, url in (("source.url", site.source.url), ("destination.url", site.destination.url)):
        parsed = http_url(url) if url else None
        if parsed and policy.source_hosts and not _any(parsed[0].hostname or "", policy.source_hosts):
            yield Diagnostic("MTV143", f"{label} host {parsed[0].hostname!r} is not a host the policy allows",
                             where(*label.split(".")), f"allowed: {', '.join(policy.source_hosts)}")
    for label, block in (("source", site.source), ("destination", site.destination)):
        parsed = http_url(block.url) if block.url and not block.external else None
        if parsed and parsed[0].scheme == "http":
            yield Diagnostic("MTV141", f"{label}.url is plain HTTP: the "
                             f"{'vCenter ' if site.source.type == 'vsphere' and label == 'source' else ''}password "
                             "(mtvgen lock) and the Provider's credentials would cross the network in clear",
                             where(label, "url"), "use https://", severity=WARNING if policy.allow_http else "")
        if not block.external and block.insecure:
            yield Diagnostic("MTV142", f"{label}.insecureSkipVerify: true: the {label}'s certificate is not "
                             "checked, so anyone on the path can read its credentials",
                             where(label, "insecureSkipVerify"),
                             "give the CA instead (the credentials' cacert), and drop insecureSkipVerify",
                             severity=WARNING if policy.allow_insecure_tls else "")
    for hook in site.hooks.values():
        if hook.image and policy.hook_images and not _any(hook.image, policy.hook_images):
            yield Diagnostic("MTV145", f"hook '{hook.name}' image {hook.image!r} is not an image the policy allows",
                             hook.where, f"allowed: {', '.join(policy.hook_images)}")
        sa = hook.service_account
        if sa and (_any(sa, CONTROLLER_ACCOUNTS) if not policy.hook_service_accounts
                   else not _any(sa, policy.hook_service_accounts)):
            yield Diagnostic("MTV145", f"hook '{hook.name}' runs as service account {sa!r}: a hook's playbook would "
                             f"hold that account's rights; {by}", hook.where,
                             "give hooks an account of their own with the rights they need")


WARN_UNITS = 1000     # past this many sync units a site is hard to review and heavy on Argo CD


def units(site: Site, count: int):
    """A site of very many sync units (`batch: {maxVMs: 1}` over 20,000 VMs wrote 20,009
    Applications): a warning past WARN_UNITS, an error past the policy's maxUnits."""
    limit = site.policy.max_units if site.policy is not None else Policy().max_units
    if count > limit:
        yield Diagnostic("MTV146", f"the site writes {count:,} Applications or Kustomizations; the policy allows "
                         f"{limit:,}", site.plans_where, "raise batch.maxVMs, split the site, or raise maxUnits in "
                         f"{POLICY_FILE}", severity=ERROR)
    elif count > WARN_UNITS:
        yield Diagnostic("MTV146", f"the site writes {count:,} Applications or Kustomizations", site.plans_where,
                         "raise batch.maxVMs or split the site: each unit is an object Argo CD or Flux reconciles",
                         severity=WARNING)


def credential_refs(site: Site) -> list[tuple[str, str, Location]]:
    """What a site's credentials point at outside itself, and for which host: (reference,
    host, where). A Secret it only names, or an external store's key."""
    out = []
    blocks = [] if site.source.external else [(site.source.credentials, _host(site.source.url))]
    blocks += [(h.credentials, h.name) for h in site.source.hosts]
    for creds, host in blocks:
        if creds is None:
            continue
        if creds.mode == "secret" and creds.secret:
            out.append((f"Secret {site.mtv_namespace}/{creds.secret}", host, creds.where))
        elif creds.mode == "externalSecret" and creds.key:
            out.append((f"{creds.store_kind} {creds.store} key {creds.key}", host, creds.where))
    return out


def _host(url: str) -> str:
    parsed = http_url(url) if url else None
    return (parsed[0].hostname or "") if parsed else url


def credential_pairs(refs: dict[str, list[tuple[str, str, Location]]]):
    """Across the repository: credentials one site names may be another site's only for the
    same host. Else a pull request to one site could point its Provider at a host of its
    choosing with another site's vCenter account, and Forklift would log in with it.
    `refs`: site name -> credential_refs(site)."""
    used: dict[str, list[tuple[str, str, Location]]] = {}
    for site, items in sorted(refs.items()):
        for ref, host, where in items:
            used.setdefault(ref, []).append((site, host, where))
    for ref, users in sorted(used.items()):
        hosts = sorted({h for _s, h, _w in users})
        if len(hosts) > 1:
            for site, host, where in users:
                others = ", ".join(f"site '{s}' for {h}" for s, h, _w in users if (s, h) != (site, host))
                yield Diagnostic("MTV147", f"credentials {ref} are used for {host}, and also by {others}: one "
                                 "account, several hosts", where,
                                 "give each host its own credentials; sites may share them only for the same host")
