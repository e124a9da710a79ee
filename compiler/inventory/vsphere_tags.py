"""vSphere tags through vCenter's tagging API (vAPI REST under `/rest/com/vmware/cis`,
vCenter 6.5 on; what govmomi's tags client, and so Forklift, calls), which the SOAP API
pyvmomi speaks does not serve. Read as Forklift's collector reads them (kubev2v/forklift
d42511b container/vsphere/collector.go getVMsWithTags): every tag id in one call, the
objects attached to all of them in one batch call, then the details of only the tags a
VM carries, and their categories' names.

In: vCenter's address, the TLS context and credentials of the SOAP session. Out: VM
moRef -> ((category name, tag name), ...). Failures are TagsUnavailable with the
reason; the caller decides whether the site needed tags.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from urllib.parse import quote


CIS = "/rest/com/vmware/cis"


class TagsUnavailable(Exception):
    pass


class _Client:
    def __init__(self, base: str, context: ssl.SSLContext | None, timeout: float):
        self.base, self.context, self.timeout, self.session = base.rstrip("/"), context, timeout, ""

    def call(self, method: str, path: str, body=None, auth: str = ""):
        headers = {"Accept": "application/json"}
        if auth:
            headers["Authorization"] = auth
        if self.session:
            headers["vmware-api-session-id"] = self.session
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=self.timeout) as r:
                text = r.read()
        except urllib.error.HTTPError as exc:
            why = {401: "the credentials were refused", 403: "the user lacks the privilege to read tags",
                   404: "this vCenter serves no tagging API"}.get(exc.code, "")
            raise TagsUnavailable(f"{method} {path}: HTTP {exc.code}" + (f" ({why})" if why else "")) from None
        except (urllib.error.URLError, OSError) as exc:
            raise TagsUnavailable(f"{method} {path}: {getattr(exc, 'reason', exc)}") from None
        return (json.loads(text) or {}).get("value") if text else None      # vAPI wraps answers in `value`


def read(base: str, context: ssl.SSLContext | None, user: str, password: str,
         timeout: float) -> dict[str, tuple[tuple[str, str], ...]]:
    api = _Client(base, context, timeout)
    basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    api.session = api.call("POST", f"{CIS}/session", auth=basic)
    try:
        tag_ids = api.call("GET", f"{CIS}/tagging/tag") or []
        if not tag_ids:
            return {}
        attached = api.call("POST", f"{CIS}/tagging/tag-association?~action=list-attached-objects-on-tags",
                            {"tag_ids": tag_ids}) or []
        on_vms: dict[str, list[str]] = {}
        for entry in attached:
            for obj in entry.get("object_ids") or []:
                if obj.get("type") == "VirtualMachine":
                    on_vms.setdefault(entry.get("tag_id", ""), []).append(obj.get("id", ""))
        tags, categories = {}, {}
        for tag_id in sorted(on_vms):
            tag = api.call("GET", f"{CIS}/tagging/tag/id:{quote(tag_id)}") or {}
            cat = tag.get("category_id", "")
            if cat not in categories:
                categories[cat] = (api.call("GET", f"{CIS}/tagging/category/id:{quote(cat)}") or {}).get("name", cat)
            tags[tag_id] = (categories[cat], tag.get("name", tag_id))
        out: dict[str, set] = {}
        for tag_id, vms in on_vms.items():
            for vm in vms:
                out.setdefault(vm, set()).add(tags[tag_id])
        return {vm: tuple(sorted(pairs)) for vm, pairs in out.items()}
    finally:
        try:
            api.call("DELETE", f"{CIS}/session")
        except TagsUnavailable:
            pass          # the session times out anyway
