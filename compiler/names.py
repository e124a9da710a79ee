"""Kubernetes names: validity tests, Forklift's VM renaming rule, stable shortening."""

from __future__ import annotations

import hashlib
import re

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_MAX = 63
SUBDOMAIN_MAX = 253


def is_label(name: str) -> bool:
    return len(name) <= LABEL_MAX and bool(DNS1123_LABEL.match(name))


def is_subdomain(name: str) -> bool:
    return len(name) <= SUBDOMAIN_MAX and bool(DNS1123_SUBDOMAIN.match(name))


def digest(text: str, n: int = 6) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def to_label(text: str, limit: int = LABEL_MAX) -> str:
    """A DNS-1123 label made from any text. Names that had to change (characters
    dropped or length cut) get a hash of the original text, so two different
    inputs never collapse onto one name and the result is stable across runs."""
    clean = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    clean = re.sub(r"-{2,}", "-", clean)
    if clean == text and len(clean) <= limit and clean:
        return clean
    suffix = digest(text)
    head = clean[: limit - len(suffix) - 1].strip("-")
    return f"{head}-{suffix}" if head else f"x-{suffix}"


_TO_DASH = re.compile(r"[_+* /\\]")
_NOT_LABEL = re.compile(r"[^a-z0-9-]")


def forklift_vm_name(source_name: str) -> str:
    """The target name Forklift gives a VM whose source name is not DNS-1123
    (pkg/controller/plan/util ChangeVmName): lowercase, split on dots, map
    `_ + * space / \\` to '-', drop other characters, collapse dashes, each label
    and the whole name at most 63. Forklift draws a random suffix when nothing is
    left; this returns "" there so the caller can pick a deterministic name."""
    name = source_name.lower().strip(".-")
    parts = []
    for part in name.split("."):
        part = _TO_DASH.sub("-", part)
        part = _NOT_LABEL.sub("", part).strip("-.")
        part = "-".join(p for p in part.split("-") if p)
        if len(part) > LABEL_MAX:
            part = part[:LABEL_MAX].strip("-")
        if part:
            parts.append(part)
    name = ".".join(parts)
    if len(name) > LABEL_MAX:
        name = name[:LABEL_MAX].strip(".-")
    return name


def target_vm_name(source_name: str, vm_id: str) -> str:
    """What the VM will be called on OpenShift when no targetName is given."""
    if len(source_name) <= LABEL_MAX and DNS1123_SUBDOMAIN.match(source_name):
        return source_name
    return forklift_vm_name(source_name) or f"vm-{digest(vm_id, 4)}"


# YAML's printable characters (YAML 1.2 c-printable): what go-yaml, and so kubectl,
# kustomize, Argo CD and Flux, will read or write in a manifest at all
_UNPRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def yaml_printable(text: str) -> bool:
    return not _UNPRINTABLE.search(text)


def ref(obj_id: str, name: str) -> dict:
    """An inventory reference {id, name}; just {id} when the name holds a character no
    Kubernetes tool will write (DEL, a C1 control, a lone surrogate): Forklift finds the
    object by id alone, and kustomize refuses the whole file otherwise."""
    return {"id": obj_id, "name": name} if yaml_printable(name) else {"id": obj_id}


# Batches: a batched plan `web` becomes the Forklift plans web-01, web-02, ... One rule
# for writing and reading those names, below every stage (spec, sitemodel and lifecycle use it).

def batch_name(plan: str, number: int) -> str:
    return f"{plan}-{number:02d}"


def batch_number(name: str) -> int:
    return int(name.rsplit("-", 1)[1])


_BATCH = re.compile(r"(.+)-([0-9]{2,})")


def batch_of(name: str, batched: set[str]) -> tuple[str, int]:
    """(the plan, the batch number) when `name` is a batch of one of the `batched` plans
    (`web-02` of `web`), else (name, 0). Not every `x-NN` is a batch: `web-prod` and a plan
    that is not batched stay themselves."""
    m = _BATCH.fullmatch(name)
    if m and m.group(1) in batched:
        return m.group(1), int(m.group(2))
    return name, 0
