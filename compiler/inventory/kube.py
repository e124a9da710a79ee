"""The target cluster (and the cluster MTV runs on) through the `kubernetes`
client: connection set-up from a kubeconfig or the in-cluster service account,
and the facts the checks need about the destination.

ApiException, urllib3 and ssl failures are translated here into mtvgen errors
that name the context, the API call and the RBAC permission that is missing.
"""

from __future__ import annotations

import contextlib
import ssl

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

import msgspec

from .model import TargetFacts
from ..tables import SITE_LABEL
from ..errors import AuthError, ConnectError, InventoryError, PermissionDenied, TimeoutError_, TLSError, UsageError


class ClusterOptions(msgspec.Struct, frozen=True):
    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    timeout: float = 30.0


class Cluster:
    """One API server, one identity. `call` wraps every request."""

    def __init__(self, opts: ClusterOptions):
        self.opts = opts
        try:
            if opts.in_cluster:
                cfg = client.Configuration()
                config.load_incluster_config(client_configuration=cfg)
                self.context = "in-cluster service account"
                self.api = client.ApiClient(cfg)
            else:
                contexts, active = config.list_kube_config_contexts(config_file=opts.kubeconfig)
                names = [c["name"] for c in contexts]
                if opts.context and opts.context not in names:
                    raise UsageError(f"kubeconfig has no context {opts.context!r}",
                                     fix=f"use one of: {', '.join(names)}")
                self.context = opts.context or active["name"]
                self.api = config.new_client_from_config(config_file=opts.kubeconfig, context=self.context,
                                                         persist_config=False)
        except ConfigException as exc:
            raise UsageError(f"cannot load cluster credentials: {exc}",
                             fix="pass --kubeconfig and --context, or --in-cluster inside a pod") from exc
        except (OSError, TypeError) as exc:
            raise UsageError(f"cannot read kubeconfig {opts.kubeconfig or '~/.kube/config'}: {exc}",
                             fix="pass --kubeconfig with a readable kubeconfig file") from exc
        self.api.configuration.retries = 0  # failures must come back within --timeout, not after retries
        self.core = client.CoreV1Api(self.api)
        self.storage = client.StorageV1Api(self.api)
        self.custom = client.CustomObjectsApi(self.api)
        self.crds = client.ApiextensionsV1Api(self.api)

    @property
    def token(self) -> str:
        """The `Authorization` header value this client sends (Bearer ...)."""
        auth = self.api.configuration.auth_settings().get("BearerToken") or {}
        return auth.get("value") or ""

    @contextlib.contextmanager
    def call(self, verb: str, resource: str, namespace: str = ""):
        where = f"in namespace {namespace}" if namespace else "cluster-wide"
        try:
            yield
        except ApiException as exc:
            if exc.status == 401:
                raise AuthError(f"the API server rejected the credentials of context {self.context!r} "
                                f"({verb} {resource})", fix="log in again (the token may have expired)") from exc
            if exc.status == 403:
                raise PermissionDenied(f"context {self.context!r} may not {verb} {resource} {where}",
                                       fix=f"grant `{verb}` on {resource} to this user "
                                       f"(check: kubectl auth can-i {verb} {resource}"
                                       f"{' -n ' + namespace if namespace else ''})") from exc
            raise InventoryError(f"{verb} {resource} {where} failed: HTTP {exc.status} {exc.reason}",
                                 fix="check the API server's health and retry") from exc
        except urllib3.exceptions.MaxRetryError as exc:
            raise _network_error(exc.reason, self.context, self.api.configuration.host, self.opts.timeout) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _network_error(exc, self.context, self.api.configuration.host, self.opts.timeout) from exc

    def _kw(self):
        return {"_request_timeout": self.opts.timeout}

    def exists(self, fn, *args) -> bool:
        try:
            fn(*args, **self._kw())
            return True
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise

    def list_custom(self, group, version, plural, namespace=None, label_selector=None) -> list[dict]:
        kw = {**self._kw(), **({"label_selector": label_selector} if label_selector else {})}
        try:
            if namespace:
                res = self.custom.list_namespaced_custom_object(group, version, namespace, plural, **kw)
            else:
                res = self.custom.list_cluster_custom_object(group, version, plural, **kw)
        except ApiException as exc:
            if exc.status == 404:  # the CRD (or namespace) is not there: nothing of that kind exists
                return []
            raise
        return res.get("items", [])

    def get_custom(self, group, version, plural, namespace, name) -> dict | None:
        try:
            return self.custom.get_namespaced_custom_object(group, version, namespace, plural, name, **self._kw())
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.api.close()


def _network_error(reason, context: str, host: str, timeout: float):
    if isinstance(reason, urllib3.exceptions.SSLError) or isinstance(reason, ssl.SSLError):
        return TLSError(f"TLS verification of the API server {host} (context {context!r}) failed: {reason}",
                        fix="check certificate-authority-data in the kubeconfig")
    if isinstance(reason, (urllib3.exceptions.TimeoutError, TimeoutError)):
        return TimeoutError_(f"API server {host} (context {context!r}) did not answer within {timeout:g} s",
                             fix="check the cluster address and network, or raise --timeout")
    return ConnectError(f"cannot reach the API server {host} (context {context!r}): {reason}",
                        fix="check the server address in the kubeconfig")


def target_facts(cluster: Cluster, site) -> TargetFacts:
    """Everything the destination-side checks need, read once, at lock time."""
    facts = TargetFacts(cluster.context)
    target_ns = sorted({p.target_namespace for p in site.plans})
    nad_ns = set(target_ns) | {"default"}
    nad_ns |= {ns for m in site.maps if m.kind == "network" for _e, ns, _name in m.nads()}
    nad_ns |= {p.transfer_network[0] for p in site.plans if p.transfer_network}
    for ns in target_ns:
        with cluster.call("get", "namespaces"):
            facts.namespaces[ns] = cluster.exists(cluster.core.read_namespace, ns)
    with cluster.call("list", "storageclasses.storage.k8s.io"):
        for sc in cluster.storage.list_storage_class(**cluster._kw()).items:
            facts.storage_classes[sc.metadata.name] = sc.provisioner or ""
    for ns in sorted(nad_ns):
        with cluster.call("list", "network-attachment-definitions.k8s.cni.cncf.io", ns):
            for nad in cluster.list_custom("k8s.cni.cncf.io", "v1", "network-attachment-definitions", ns):
                ann = (nad["metadata"].get("annotations") or {}).get("forklift.konveyor.io/route", "")
                facts.nads[f"{ns}/{nad['metadata']['name']}"] = ann
    sa_wanted = {(p.target_namespace, p.options["serviceAccount"]) for p in site.plans if p.options.get("serviceAccount")}
    sa_wanted |= {(site.mtv_namespace, h.service_account) for h in site.hooks.values() if h.service_account}
    for ns, name in sorted(sa_wanted):
        if facts.namespaces.get(ns) is False:
            continue
        with cluster.call("get", "serviceaccounts", ns):
            if cluster.exists(cluster.core.read_namespaced_service_account, name, ns):
                facts.service_accounts.append(f"{ns}/{name}")
    with cluster.call("list", "providers.forklift.konveyor.io", site.mtv_namespace):
        for p in cluster.list_custom("forklift.konveyor.io", "v1beta1", "providers", site.mtv_namespace):
            spec = p.get("spec") or {}
            facts.providers[p["metadata"]["name"]] = {"type": spec.get("type", ""), "url": spec.get("url", "")}
    for ns in target_ns:
        if not facts.namespaces.get(ns):
            continue
        with cluster.call("list", "resourcequotas", ns):
            quotas = [{"name": q.metadata.name, "hard": dict((q.status.hard if q.status else None) or {}),
                       "used": dict((q.status.used if q.status else None) or {})}
                      for q in cluster.core.list_namespaced_resource_quota(ns, **cluster._kw()).items]
        if quotas:
            facts.quotas[ns] = sorted(quotas, key=lambda q: q["name"])
        with cluster.call("list", "virtualmachines.kubevirt.io", ns):
            names = [vm["metadata"]["name"] for vm in cluster.list_custom("kubevirt.io", "v1", "virtualmachines", ns)]
            facts.vms[ns] = sorted(names)
    return facts


def forklift_crds(cluster: Cluster) -> list[dict]:
    """The installed forklift.konveyor.io CRDs, as plain dicts."""
    with cluster.call("list", "customresourcedefinitions.apiextensions.k8s.io"):
        crds = cluster.crds.list_custom_resource_definition(**cluster._kw()).items
    out = [cluster.api.sanitize_for_serialization(c) for c in crds if c.spec.group == "forklift.konveyor.io"]
    if not out:
        raise InventoryError(f"no forklift.konveyor.io CRDs on the cluster of context {cluster.context!r}",
                             fix="install MTV / Forklift first")
    return out


# what a site's plans stand on: read with its Plans so `status` can say which one is down
SETUP_PLURALS = ("providers", "hosts", "networkmaps", "storagemaps", "hooks")


def site_runs(cluster: Cluster, namespace: str, site: str) -> tuple[list[dict], list[dict], list[dict]]:
    """The Plans, Migrations and the objects they stand on (Providers, Hosts, maps, Hooks)
    mtvgen wrote for a site (its site label), with status."""
    found = {}
    for plural in ("plans", "migrations", *SETUP_PLURALS):
        with cluster.call("list", f"{plural}.forklift.konveyor.io", namespace):
            found[plural] = cluster.list_custom("forklift.konveyor.io", "v1beta1", plural, namespace,
                                                f"{SITE_LABEL}={site}")
    return found["plans"], found["migrations"], [o for p in SETUP_PLURALS for o in found[p]]
