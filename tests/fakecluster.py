"""A local HTTPS server that answers the real Kubernetes API and Forklift
inventory paths with the real JSON shapes, for the `kubernetes` client and
mtvgen's inventory client. No real API server can run here; this is the
closest honest stand-in: real TLS, real kubeconfig, real bearer tokens,
real Status objects, real paging and 206/401/403/404 behaviour."""

from __future__ import annotations

import base64
import json
import re
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import yaml

TOKEN = "good-token"

# What the inventory service lists when a request has no `detail`: each item's
# bare REST Resource (kubev2v/forklift d42511b: web/base/handler.go setDetail
# leaves Detail 0; the Resource structs of web/{vsphere,ovirt,openstack,ova,ocp}
# carry only these JSON keys between them, so no NICs, disks or concerns).
RESOURCE_KEYS = frozenset({"id", "uid", "version", "namespace", "name", "description", "variant", "parent",
                           "path", "revision", "selfLink"})


@dataclass
class State:
    namespaces: set = field(default_factory=lambda: {"openshift-mtv", "default"})
    storage_classes: dict = field(default_factory=dict)       # name -> provisioner
    nads: dict = field(default_factory=dict)                  # (ns, name) -> annotations
    service_accounts: set = field(default_factory=set)        # (ns, name)
    services: set = field(default_factory=set)                # (ns, name)
    providers: dict = field(default_factory=dict)             # (ns, name) -> {uid, type, url}
    vms: dict = field(default_factory=dict)                   # ns -> [names]
    routes: dict = field(default_factory=dict)                # (ns, name) -> host
    crds: list = field(default_factory=list)
    deny: set = field(default_factory=set)                    # (verb, plural, ns or "")
    inventory: dict = field(default_factory=dict)             # provider uid -> {type, summary, collections}
    loading: int = 0                                          # answer 206 this many more times (-1: forever)
    inventory_status: int = 0                                 # force a status (401, 403) on inventory calls
    requests: list = field(default_factory=list)
    queries: list = field(default_factory=list)               # the query strings, in request order
    forklift: dict = field(default_factory=dict)              # (plural, ns) -> [objects with status]
    quotas: dict = field(default_factory=dict)                # ns -> {quota name: (hard, used)}


def _cert(folder: Path) -> tuple[str, str]:
    key, crt = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(crt), "-days", "1", "-subj", "/CN=fake-apiserver",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return str(crt), str(key)


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


def _meta(name, ns=None, **extra):
    m = {"name": name, "uid": f"uid-{ns or ''}-{name}", "resourceVersion": "1",
         "creationTimestamp": "2026-01-01T00:00:00Z"}
    if ns:
        m["namespace"] = ns
    m.update(extra)
    return m


def _list(kind, items, api="v1"):
    return {"apiVersion": api, "kind": kind, "metadata": {"resourceVersion": "1"}, "items": items}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, code, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - http.server's naming
        st: State = self.server.state
        url = urlparse(self.path)
        path, query = url.path, parse_qs(url.query)
        st.requests.append(path)
        st.queries.append(url.query)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, _status(401, "Unauthorized", "Unauthorized"))
        if path.startswith("/providers/"):
            return self._inventory(st, path, query)
        for pattern, fn in ROUTES:
            m = re.fullmatch(pattern, path)
            if m:
                verb, plural, ns = (fn.__doc__.split()[0], m.groupdict().get("plural") or fn.__doc__.split()[1],
                                    m.groupdict().get("ns", ""))
                if (verb, plural, ns) in st.deny or (verb, plural, "") in st.deny:
                    return self._send(403, _status(403, "Forbidden", f'{plural} is forbidden: User "test" cannot '
                                                   f'{verb} resource "{plural}" in namespace "{ns}"'))
                code, body = fn(st, query=query, **m.groupdict())
                return self._send(code, body)
        return self._send(404, _status(404, "NotFound", f"the server could not find {path}"))

    def _inventory(self, st: State, path: str, query: dict):
        if st.inventory_status:
            return self._send(st.inventory_status, {"error": "denied"})
        parts = path.strip("/").split("/")   # providers/<type>/<uid>[/<collection>]
        if len(parts) < 3 or parts[2] not in st.inventory:
            return self._send(404, {}, {"X-Reason": "ProviderNotFound"})
        inv = st.inventory[parts[2]]
        if parts[1] != inv["type"]:         # each type has its own routes and its own model
            return self._send(404, {})
        detail = query.get("detail", [""])[0]
        if detail and detail.lower() != "all" and not detail.lstrip("-").isdigit():
            return self._send(400, {})      # web/base/handler.go setDetail: not "all", not a number
        if st.loading:
            st.loading -= 1 if st.loading > 0 else 0
            return self._send(206, [])
        if len(parts) == 3:
            return self._send(200, inv["summary"])
        items = inv["collections"].get(parts[3], [])
        if not isinstance(items, list):     # a test's stand-in for a service that answers otherwise
            return self._send(200, items)
        if not detail or detail == "0":     # Detail 0: the bare Resource of each item, no NICs or disks
            items = [{k: v for k, v in i.items() if k in RESOURCE_KEYS} for i in items]
        offset = int(query.get("offset", ["0"])[0])
        limit = int(query.get("limit", [str(len(items) or 1)])[0])
        return self._send(200, items[offset:offset + limit])


def _version(st, **_):
    """get version"""
    return 200, {"major": "1", "minor": "32", "gitVersion": "v1.32.4", "platform": "linux/amd64"}


def _namespace(st, ns, **_):
    """get namespaces"""
    if ns not in st.namespaces:
        return 404, _status(404, "NotFound", f'namespaces "{ns}" not found')
    return 200, {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(ns), "spec": {}, "status": {"phase": "Active"}}


def _quotas(st, ns, **_):
    """list resourcequotas"""
    # k8s.io/api core/v1 types.go ResourceQuota: spec.hard, status.hard and status.used (the
    # quota controller writes status; no controller runs beside the harvested API server)
    return 200, _list("ResourceQuotaList", [{"metadata": _meta(name, ns), "spec": {"hard": hard},
                                             "status": {"hard": hard, "used": used}}
                                            for name, (hard, used) in sorted(st.quotas.get(ns, {}).items())])


def _storage_classes(st, **_):
    """list storageclasses"""
    # the items of a built-in kind's list carry no apiVersion/kind (tests/fixtures/real/storageclasses.json)
    return 200, _list("StorageClassList", [{"metadata": _meta(n), "provisioner": p, "reclaimPolicy": "Delete"}
                                           for n, p in sorted(st.storage_classes.items())], "storage.k8s.io/v1")


def _nads(st, ns, **_):
    """list network-attachment-definitions"""
    items = [{"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
              "metadata": _meta(n, s, annotations=a), "spec": {"config": "{}"}}
             for (s, n), a in sorted(st.nads.items()) if s == ns]
    return 200, _list("NetworkAttachmentDefinitionList", items, "k8s.cni.cncf.io/v1")


def _service_account(st, ns, name, **_):
    """get serviceaccounts"""
    if (ns, name) not in st.service_accounts:
        return 404, _status(404, "NotFound", f'serviceaccounts "{name}" not found')
    return 200, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, ns)}


def _service(st, ns, name, **_):
    """get services"""
    if (ns, name) not in st.services:
        return 404, _status(404, "NotFound", f'services "{name}" not found')
    return 200, {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, ns),
                 "spec": {"ports": [{"port": 8443, "protocol": "TCP"}]}}


def _provider_obj(ns, name, p):
    return {"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Provider",
            "metadata": _meta(name, ns, uid=p["uid"]), "spec": {"type": p["type"], "url": p.get("url", ""),
                                                                 "secret": {"name": "s", "namespace": ns}},
            "status": {"phase": "Ready"}}


def _providers(st, ns, query):
    """list providers: those the inventory tests name (no labels), and labelled ones with status"""
    _, labelled = _forklift_objects(st, "providers", ns, query)
    bare = [_provider_obj(s, n, p) for (s, n), p in sorted(st.providers.items()) if s == ns]
    if query.get("labelSelector"):      # the bare ones carry no label: a selector never matches them
        bare = []
    return 200, _list("ProviderList", bare + labelled["items"], "forklift.konveyor.io/v1beta1")


def _provider(st, ns, name, **_):
    """get providers"""
    if (ns, name) not in st.providers:
        return 404, _status(404, "NotFound", f'providers.forklift.konveyor.io "{name}" not found')
    return 200, _provider_obj(ns, name, st.providers[(ns, name)])


def _vms(st, ns, **_):
    """list virtualmachines"""
    return 200, _list("VirtualMachineList", [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                                              "metadata": _meta(n, ns), "spec": {"running": False}}
                                             for n in st.vms.get(ns, [])], "kubevirt.io/v1")


def _route(st, ns, name, **_):
    """get routes"""
    if (ns, name) not in st.routes:
        return 404, _status(404, "NotFound", f'routes.route.openshift.io "{name}" not found')
    return 200, {"apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": _meta(name, ns),
                 "spec": {"host": st.routes[(ns, name)], "to": {"kind": "Service", "name": name}}}


def _forklift_objects(st, plural, ns, query):
    """Forklift objects with status (as a test put them), filtered by labelSelector `key=value`."""
    items = st.forklift.get((plural, ns), [])
    for sel in query.get("labelSelector", []):
        key, _, value = sel.partition("=")
        items = [o for o in items if (o.get("metadata", {}).get("labels") or {}).get(key) == value]
    return 200, _list(KINDS[plural] + "List", items, "forklift.konveyor.io/v1beta1")


KINDS = {"plans": "Plan", "migrations": "Migration", "providers": "Provider", "hosts": "Host",
         "networkmaps": "NetworkMap", "storagemaps": "StorageMap", "hooks": "Hook"}


def _plans(st, ns, query):
    """list plans"""
    return _forklift_objects(st, "plans", ns, query)


def _migrations(st, ns, query):
    """list migrations"""
    return _forklift_objects(st, "migrations", ns, query)


def _setup(st, ns, plural, query):
    """list hosts, networkmaps, storagemaps or hooks"""
    return _forklift_objects(st, plural, ns, query)


def _crds(st, **_):
    """list customresourcedefinitions"""
    return 200, _list("CustomResourceDefinitionList", st.crds, "apiextensions.k8s.io/v1")


ROUTES = [
    (r"/version/?", _version),
    (r"/api/v1/namespaces/(?P<ns>[^/]+)", _namespace),
    (r"/apis/storage\.k8s\.io/v1/storageclasses", _storage_classes),
    (r"/api/v1/namespaces/(?P<ns>[^/]+)/resourcequotas", _quotas),
    (r"/apis/k8s\.cni\.cncf\.io/v1/namespaces/(?P<ns>[^/]+)/network-attachment-definitions", _nads),
    (r"/api/v1/namespaces/(?P<ns>[^/]+)/serviceaccounts/(?P<name>[^/]+)", _service_account),
    (r"/api/v1/namespaces/(?P<ns>[^/]+)/services/(?P<name>[^/]+)", _service),
    (r"/apis/forklift\.konveyor\.io/v1beta1/namespaces/(?P<ns>[^/]+)/providers", _providers),
    (r"/apis/forklift\.konveyor\.io/v1beta1/namespaces/(?P<ns>[^/]+)/providers/(?P<name>[^/]+)", _provider),
    (r"/apis/forklift\.konveyor\.io/v1beta1/namespaces/(?P<ns>[^/]+)/plans", _plans),
    (r"/apis/forklift\.konveyor\.io/v1beta1/namespaces/(?P<ns>[^/]+)/migrations", _migrations),
    (r"/apis/forklift\.konveyor\.io/v1beta1/namespaces/(?P<ns>[^/]+)/(?P<plural>hosts|networkmaps|storagemaps|hooks)",
     _setup),
    (r"/apis/kubevirt\.io/v1/namespaces/(?P<ns>[^/]+)/virtualmachines", _vms),
    (r"/apis/route\.openshift\.io/v1/namespaces/(?P<ns>[^/]+)/routes/(?P<name>[^/]+)", _route),
    (r"/apis/apiextensions\.k8s\.io/v1/customresourcedefinitions", _crds),
]


class FakeCluster:
    def __init__(self, folder: Path):
        self.state = State()
        self.cert, key = _cert(folder)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.state = self.state
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.kubeconfig = folder / "kubeconfig"
        ca = base64.b64encode(Path(self.cert).read_bytes()).decode()
        self.kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "test",
            "clusters": [{"name": "fake", "cluster": {"server": self.url, "certificate-authority-data": ca}},
                         {"name": "no-ca", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": TOKEN}}, {"name": "stale", "user": {"token": "expired"}}],
            "contexts": [{"name": "test", "context": {"cluster": "fake", "user": "tester"}},
                         {"name": "expired", "context": {"cluster": "fake", "user": "stale"}},
                         {"name": "untrusted", "context": {"cluster": "no-ca", "user": "tester"}}],
        }))

    @property
    def host(self) -> str:
        return self.url.removeprefix("https://")

    def serve_inventory(self, snapshot: dict, name: str, ns: str = "openshift-mtv", url: str = ""):
        """Serve an inventory snapshot file's collections for Provider ns/name."""
        provider = dict(snapshot["provider"])
        uid = provider.get("uid") or f"uid-{name}"
        self.state.providers[(ns, name)] = {"uid": uid, "type": provider["type"], "url": url}
        # `version` is the Provider CR's resourceVersion (web/base Provider): it must not reach a lock
        summary = {"uid": uid, "version": "48213", "name": name, "namespace": ns, "type": provider["type"],
                   "selfLink": f"providers/{provider['type']}/{uid}", **{k: v for k, v in provider.items()
                                                                        if k not in ("type", "uid")}}
        self.state.inventory[uid] = {"type": provider["type"], "summary": summary,
                                     "collections": {k: v for k, v in snapshot.items() if k != "provider"}}
        self.state.routes[(ns, "forklift-inventory")] = self.host
        return uid

    def close(self):
        self.server.shutdown()
        self.server.server_close()
