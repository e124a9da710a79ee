"""Encrypted Secret files a site spec names (`sealedSecret:` or `sops:`): read
once when the spec is loaded, checked for shape, and later written to the
output byte for byte (re-serialising could break a SOPS MAC and makes every
diff noisy).

In: the site directory, a relative path, the MTV namespace. Out: a SecretFile
whose `problems` say, without ever quoting a value, why it cannot be used.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from . import yamlio
from .errors import Location, MtvgenError
from .names import is_subdomain

SEALED_API = "bitnami.com/v1alpha1"
# kubeseal's scopes: a strict (default) SealedSecret decrypts only under its own name and namespace
_WIDER_SCOPES = ("sealedsecrets.bitnami.com/cluster-wide", "sealedsecrets.bitnami.com/namespace-wide")


class SecretFile(msgspec.Struct, frozen=True, kw_only=True):
    mode: str                      # sealedSecret | sops
    path: str                      # as written in the spec (relative to the site directory)
    where: Location
    text: str = ""
    name: str = ""
    keys: tuple[str, ...] = ()     # the data keys the resulting Secret will have
    labels: dict = msgspec.field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "SealedSecret" if self.mode == "sealedSecret" else "Secret"


def inside(site_dir: Path, rel: str) -> tuple[Path | None, str]:
    """The file `rel` names, if it stays inside the site directory (symlinks resolved)."""
    root = Path(site_dir).resolve()
    if Path(rel).is_absolute():
        return None, "is an absolute path; name a file inside the site directory"
    target = (root / rel).resolve()
    if target != root and root not in target.parents:
        return None, "points outside the site directory"
    return target, ""


def read(site_dir: Path, rel: str, mode: str, namespace: str, where: Location) -> SecretFile:
    def unusable(problem: str) -> SecretFile:     # where and what, so the message can name the file
        return SecretFile(mode=mode, path=rel, where=where, problems=(problem,))

    path, why = inside(site_dir, rel)
    if path is None:
        return unusable(f"{rel} {why}")
    try:
        text = yamlio.decode(path.read_bytes(), rel)
        body = yamlio.load_fast(text, rel)     # bounded like the spec: no alias bombs, YAML 1.2 booleans
    except OSError as exc:
        return unusable(f"cannot read {rel}: {exc.strerror}")
    except MtvgenError:
        return unusable(f"{rel} is not a YAML document")
    if not isinstance(body, dict):
        return unusable(f"{rel} does not hold one Kubernetes object")
    checker = _sealed if mode == "sealedSecret" else _sops
    keys, labels, problems = checker(body, rel, namespace)
    name = _mapping(body.get("metadata")).get("name")
    if not isinstance(name, str) or not is_subdomain(name):
        problems.append(f"{rel}: metadata.name must be a valid Secret name")
        name = ""
    return SecretFile(mode=mode, path=rel, where=where, text=text, name=name, keys=tuple(sorted(keys)),
                      labels=labels, problems=tuple(problems))


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _sealed(body: dict, rel: str, namespace: str):
    problems = []
    if body.get("apiVersion") != SEALED_API or body.get("kind") != "SealedSecret":
        problems.append(f"{rel} is not a {SEALED_API} SealedSecret (kubeseal output)")
    meta, spec = _mapping(body.get("metadata")), _mapping(body.get("spec"))
    annotations = _mapping(meta.get("annotations"))
    scoped = any(str(annotations[a]).lower() == "true" for a in _WIDER_SCOPES if a in annotations)
    if meta.get("namespace") != namespace and not scoped:
        problems.append(f"{rel} is sealed for namespace {meta.get('namespace')!r}; the Secret is needed in "
                        f"{namespace!r} (re-seal it with --namespace {namespace})")
    encrypted = _mapping(spec.get("encryptedData"))
    if not encrypted or not all(isinstance(v, str) and v for v in encrypted.values()):
        problems.append(f"{rel}: spec.encryptedData must map each key to its ciphertext")
    template = _mapping(spec.get("template"))
    keys = set(encrypted) | set(_mapping(template.get("data")))
    return keys, dict(_mapping(_mapping(template.get("metadata")).get("labels"))), problems


def _sops(body: dict, rel: str, namespace: str):
    problems = []
    if body.get("apiVersion") != "v1" or body.get("kind") != "Secret":
        problems.append(f"{rel} is not a v1 Secret")
    meta = _mapping(body.get("metadata"))
    if meta.get("namespace") != namespace:
        problems.append(f"{rel}: metadata.namespace must be {namespace!r}")
    if not _mapping(body.get("sops")).get("mac"):
        problems.append(f"{rel} carries no SOPS metadata: encrypt it with `sops --encrypt` first")
    values = {**_mapping(body.get("data")), **_mapping(body.get("stringData"))}
    plain = sorted(k for k, v in values.items() if not (isinstance(v, str) and v.startswith("ENC[")))
    if plain:
        problems.append(f"{rel}: the value(s) of {', '.join(plain)} are not encrypted; committing the file would "
                        "put them in Git in plaintext")
    return set(values), dict(_mapping(meta.get("labels"))), problems
