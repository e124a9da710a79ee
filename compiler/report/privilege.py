"""The settings a pull request can escalate with, as facts to compare: where Argo CD or
Flux take the manifests from and where they apply them, the AppProject's reach, which
credentials a Provider uses and how far it trusts the server, what a Hook runs and as
whom, which namespaces the site writes to.

In: the documents of a site's output (the base's and the head's). Out: one fact per
line, `(what, value)`; the summary lists every one that changed, first, so a reviewer
who trusts the summary sees each privileged change (report/summary.py).
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json


def facts(docs: list[dict]) -> dict[str, str]:
    out: dict[str, str] = {}
    namespaces = set()
    for d in docs:
        if not isinstance(d, dict):
            continue
        kind, meta, spec = d.get("kind", ""), d.get("metadata") or {}, d.get("spec") or {}
        name = f"{kind} {meta.get('namespace', '')}/{meta.get('name', '')}".replace(" /", " ")
        if meta.get("namespace"):
            namespaces.add(meta["namespace"])
        for key, value in _fields(kind, spec, d).items():
            out[f"{name}: {key}"] = value
        if kind == "Plan" and spec.get("targetNamespace"):
            namespaces.add(spec["targetNamespace"])
    out["namespaces written to"] = ", ".join(sorted(namespaces))
    return out


def _fields(kind: str, spec: dict, doc: dict) -> dict[str, str]:
    if kind == "Provider":
        secret = spec.get("secret") or {}
        return {"url": spec.get("url", ""), "credentials Secret": f"{secret.get('namespace', '')}/{secret.get('name', '')}"}
    if kind == "Secret":
        data = doc.get("data") or {}
        flag = data.get("insecureSkipVerify", "")
        try:
            flag = base64.b64decode(flag).decode() if flag else (doc.get("stringData") or {}).get("insecureSkipVerify", "")
        except (binascii.Error, UnicodeDecodeError):
            pass
        return {"insecureSkipVerify": flag} if flag else {}
    if kind == "ExternalSecret":
        refs = sorted({f"{(x.get('remoteRef') or {}).get('key', '')}"
                       for x in spec.get("data") or [] if isinstance(x, dict)})
        store = spec.get("secretStoreRef") or {}
        return {"reads": f"{store.get('kind', '')} {store.get('name', '')}: {', '.join(refs)}"}
    if kind == "Hook":
        return {"image": spec.get("image", ""), "serviceAccount": spec.get("serviceAccount", ""),
                "playbook": _playbook(spec.get("playbook", ""))}
    if kind == "Plan":
        return {k: str(spec[k]) for k in ("targetNamespace", "serviceAccount") if k in spec}
    if kind == "Application":
        src, dst = spec.get("source") or {}, spec.get("destination") or {}
        return {"project": spec.get("project", ""), "source": f"{src.get('repoURL', '')} {src.get('path', '')}",
                "destination": f"{dst.get('server') or dst.get('name', '')} {dst.get('namespace', '')}"}
    if kind == "AppProject":
        return {"spec": json.dumps(spec, sort_keys=True)}
    if kind == "Kustomization":
        ref = spec.get("sourceRef") or {}
        return {"source": f"{ref.get('kind', '')} {ref.get('namespace', '')}/{ref.get('name', '')} "
                          f"{spec.get('path', '')}",
                "kubeConfig": json.dumps(spec.get("kubeConfig"), sort_keys=True) if spec.get("kubeConfig") else "",
                "serviceAccountName": spec.get("serviceAccountName", ""),
                "targetNamespace": spec.get("targetNamespace", "")}
    if kind == "GitRepository":
        return {"url": spec.get("url", ""), "ref": json.dumps(spec.get("ref"), sort_keys=True)}
    return {}


def _playbook(text: str) -> str:
    """A Hook's playbook is base64 in the manifest; the reviewer reads it decoded."""
    try:
        return base64.b64decode(text, validate=True).decode("utf-8") if text else ""
    except (binascii.Error, UnicodeDecodeError):
        return text


def changed(base: dict[str, str], head: dict[str, str]) -> list[tuple[str, str, str]]:
    """(what, before, after) for every fact that differs; '' for a fact that is new or gone."""
    return [(k, base.get(k, ""), head.get(k, "")) for k in sorted(set(base) | set(head))
            if base.get(k, "") != head.get(k, "")]


def playbook_diff(before: str, after: str) -> list[str]:
    return list(difflib.unified_diff(before.splitlines(), after.splitlines(), "before", "after", lineterm=""))
