"""The Forklift inventory service: the live source for oVirt, OpenStack, OVA
and OpenShift sites (and for vSphere sites without direct vCenter access).

GET /providers/<type>/<uid>/<collection>?detail=all, paged with limit/offset,
authenticated with the cluster user's bearer token. The service answers 206
while the provider's inventory is still loading; that is retried up to a
bounded time. Collections go through the same readers as an inventory
snapshot file, so both give identical locks.
"""

from __future__ import annotations

import json
import time

import urllib3

from ..errors import AuthError, ConnectError, InventoryError, PermissionDenied, TimeoutError_, TLSError, UsageError
from ..urls import has_userinfo, redacted
from . import shapes
from .kube import Cluster
from .model import Inventory, ProviderInfo

SERVICE = "forklift-inventory"


class ForkliftSource:
    def __init__(self, cluster: Cluster, namespace: str, provider: str, provider_type: str, *,
                 url: str | None = None, ca_file: str | None = None, insecure: bool = False,
                 timeout: float = 30.0, load_wait: float = 120.0, page: int = 500):
        if url and (has_userinfo(url) or not url.startswith("https://")):
            # the cluster's bearer token goes with every request: never in clear, never in the URL
            raise UsageError(f"--inventory-url {redacted(url)!r} must be https:// without user-info: the bearer "
                             "token of the kubeconfig is sent with every request", fix="use the https Route of "
                             "forklift-inventory (or leave --inventory-url out to find it)")
        self.cluster, self.namespace, self.provider, self.type = cluster, namespace, provider, provider_type
        self.url, self.timeout, self.load_wait, self.page = url, timeout, load_wait, page
        kw = {"cert_reqs": "CERT_NONE"} if insecure else {"cert_reqs": "CERT_REQUIRED", "ca_certs": ca_file}
        self.http = urllib3.PoolManager(timeout=urllib3.Timeout(total=timeout), retries=False, **kw)

    def _endpoint(self) -> str:
        if self.url:
            return self.url.rstrip("/")
        c = self.cluster
        with c.call("get", "routes.route.openshift.io", self.namespace):
            route = c.get_custom("route.openshift.io", "v1", "routes", self.namespace, SERVICE)
        if route and route.get("spec", {}).get("host"):
            return f"https://{route['spec']['host']}"
        with c.call("get", "services", self.namespace):
            if c.exists(c.core.read_namespaced_service, SERVICE, self.namespace):
                return f"https://{SERVICE}.{self.namespace}.svc:8443"  # reachable from inside the cluster
        raise UsageError(f"no {SERVICE} Route or Service in namespace {self.namespace}",
                         fix="pass --inventory-url, or check the MTV namespace (mtvNamespace)")

    def _provider_uid(self) -> str:
        c = self.cluster
        with c.call("get", "providers.forklift.konveyor.io", self.namespace):
            cr = c.get_custom("forklift.konveyor.io", "v1beta1", "providers", self.namespace, self.provider)
        if cr is None:
            raise InventoryError(f"Provider {self.namespace}/{self.provider} does not exist on cluster "
                                 f"(context {c.context!r})",
                                 fix="apply the Provider first (mtvgen build; sync wave 0), or use --inventory FILE")
        got = (cr.get("spec") or {}).get("type")
        if got != self.type:
            raise InventoryError(f"Provider {self.namespace}/{self.provider} is of type {got!r}, the site's source is "
                                 f"{self.type!r}", fix="point source.name at the right Provider")
        return cr["metadata"]["uid"]

    def _get(self, base: str, path: str, **params):
        url = f"{base}{path}"
        deadline = time.monotonic() + self.load_wait
        headers = {"Authorization": self.cluster.token, "Accept": "application/json"}
        while True:
            try:
                r = self.http.request("GET", url, fields=params or None, headers=headers)
            except urllib3.exceptions.SSLError as exc:
                raise TLSError(f"TLS verification of the inventory service {base} failed: {exc}",
                               fix="pass --inventory-ca-file with the router or service CA") from exc
            except urllib3.exceptions.TimeoutError as exc:
                raise TimeoutError_(f"inventory service {base} did not answer within {self.timeout:g} s") from exc
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise ConnectError(f"cannot reach the inventory service {base}: {exc}",
                                   fix="check --inventory-url (or the forklift-inventory Route)") from exc
            if r.status == 206:  # the collector has not reached parity yet
                if time.monotonic() >= deadline:
                    raise InventoryError(f"the inventory of provider {self.provider} is still loading after "
                                         f"{self.load_wait:g} s", fix="wait for the Provider to be Ready, or raise "
                                         "--inventory-wait")
                time.sleep(min(1.0, max(deadline - time.monotonic(), 0)))
                continue
            if r.status == 401:
                raise AuthError(f"the inventory service rejected the token of context {self.cluster.context!r}",
                                fix="log in again (the token may have expired)")
            if r.status == 403:
                raise PermissionDenied(f"context {self.cluster.context!r} may not read the inventory of provider "
                                       f"{self.namespace}/{self.provider}",
                                       fix=f"grant `get` on providers.forklift.konveyor.io in {self.namespace} "
                                       "(the inventory service checks it)")
            if r.status == 404 and r.headers.get("X-Reason") == "ProviderNotFound":
                raise InventoryError(f"provider {self.namespace}/{self.provider} is not in the inventory service",
                                     fix="wait until the Provider is Ready, or check its name")
            if r.status != 200:
                raise InventoryError(f"inventory service answered HTTP {r.status} for {path}",
                                     fix="check the forklift-inventory pod's logs; retry when it is healthy")
            try:
                return json.loads(r.data)
            except ValueError as exc:
                raise InventoryError(f"inventory service sent invalid JSON for {path}",
                                     fix="check that --inventory-url points at the Forklift inventory service") from exc

    def _list(self, base: str, path: str) -> list:
        items, offset = [], 0
        while True:
            page = self._get(base, path, detail="all", limit=str(self.page), offset=str(offset))
            if not isinstance(page, list):      # a paging loop cannot go on; shapes.read says the rest
                raise InventoryError(f"inventory service sent a JSON {type(page).__name__} for {path}, not a list",
                                     fix="check that --inventory-url points at the Forklift inventory service")
            items.extend(page)
            if len(page) < self.page:
                return items
            offset += self.page

    def snapshot(self, selects: frozenset[str] | None = None) -> Inventory:  # reads all fields anyway
        base = self._endpoint()
        uid = self._provider_uid()
        root = f"/providers/{self.type}/{uid}"
        summary = self._get(base, root)
        if not isinstance(summary, dict):
            raise InventoryError(f"inventory service sent a JSON {type(summary).__name__} for {root}, not an object",
                                 fix="check that --inventory-url points at the Forklift inventory service")
        collections = {name: self._list(base, f"{root}/{name}") for name in shapes.COLLECTIONS[self.type]}
        identity = {k: v for k, v in summary.items()
                    # not `version`: the Provider CR's resourceVersion changes with any write to it
                    if k in ("uid", "name", "namespace", "product", "instanceUuid", "apiVersion")
                    and isinstance(v, (str, int))}
        try:
            return shapes.read(self.type, collections, ProviderInfo(self.type, identity, origin=f"forklift:{base}"))
        except shapes.ShapeError as exc:        # another Forklift's shapes
            raise InventoryError(f"the inventory service's {self.type} objects are not the shape mtvgen reads ({exc})",
                                 fix="mtvgen reads the shapes of kubev2v/forklift d42511b; report the Forklift "
                                     "version, or lock from an exported snapshot") from exc

    def details(self, inv: Inventory, vm_ids: set[str]) -> Inventory:
        return inv      # snapshot() read every field already

    def vms(self, ids: set[str], tags: bool = False) -> Inventory:
        """The service serves whole collections (the filter is here, after reading)."""
        inv = self.snapshot()
        inv.vms = {i: v for i, v in inv.vms.items() if i in ids}
        return inv

    def close(self) -> None:
        self.http.clear()
