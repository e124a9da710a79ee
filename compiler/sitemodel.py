"""The site spec as data: what spec.load returns and every later stage reads.

Data in: nothing (definitions only). Each object keeps the spec positions
(`where`) of what it came from, so any stage can point a diagnostic at a line.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import msgspec

from . import names, secretfiles, yamlio
from .diagnostics import Diagnostic
from .errors import Location
from .profile import Profile

SPEC_FILE = "site.yaml"
LOCK_FILE = "mtvgen.lock"
EXCLUDE_MARKER = ".mtvgen-exclude"   # a site directory holding this file is skipped by a plain `mtvgen build`


class Credentials(msgspec.Struct, frozen=True):
    mode: str                        # secret | externalSecret | sealedSecret | sops | plaintextFromEnv | reuseProvider
    secret: str = ""
    store: str = ""
    store_kind: str = "ClusterSecretStore"
    key: str = ""
    refresh: str = "1h"
    properties: dict = msgspec.field(default_factory=dict)
    env: dict = msgspec.field(default_factory=dict)
    data: dict = msgspec.field(default_factory=dict)
    where: Location | None = None
    file: secretfiles.SecretFile | None = None   # sealedSecret / sops

    @property
    def emits_secret(self) -> bool:
        """Does the build write something that creates the Secret (as opposed to naming one)?"""
        return self.mode not in ("secret", "reuseProvider")


class HostSpec(msgspec.Struct, frozen=True):
    name: str
    ip: str
    credentials: Credentials | None
    where: Location


class Source(msgspec.Struct, frozen=True):
    type: str
    name: str
    url: str
    external: bool
    credentials: Credentials | None
    insecure: bool
    vddk_image: str
    sdk_endpoint: str
    settings: dict
    datacenters: tuple[str, ...]
    hosts: tuple[HostSpec, ...]
    where: Location


class Destination(msgspec.Struct, frozen=True):
    name: str
    external: bool
    where: Location
    url: str = ""
    credentials: Credentials | None = None
    insecure: bool = False


class MapEntry(msgspec.Struct, frozen=True):
    kind: str                 # network | storage
    source: str               # name ("" when given by id)
    id: str
    datacenter: str
    where: Location
    target: str = ""          # network: pod | ignored | ns/nad
    storage_class: str = ""
    volume_mode: str = ""
    access_mode: str = ""
    offload: dict | None = None

    @property
    def label(self) -> str:
        return self.source or f"id {self.id}"

    def key(self) -> list:
        """What resolution depends on (goes into the lock fingerprint)."""
        return [self.source, self.id, self.datacenter]


class MapSpec(msgspec.Struct, frozen=True):
    kind: str                 # network | storage
    name: str                 # Kubernetes object name
    owner: str                # "" for the site map, else the plan name
    namespace: str            # where a NAD named without a namespace lives (the owner's target namespace)
    entries: tuple[MapEntry, ...]

    def nads(self) -> list[tuple[MapEntry, str, str]]:
        """(entry, namespace, name) of every multus target."""
        return [(e, *split_ref(e.target, self.namespace)) for e in self.entries if e.target not in ("pod", "ignored")]


def split_ref(text: str, default_namespace: str) -> tuple[str, str]:
    """`namespace/name` or `name` (in default_namespace): NADs, transfer networks."""
    namespace, _, name = text.rpartition("/")
    return namespace or default_namespace, name


class HookSpec(msgspec.Struct, frozen=True):
    name: str
    object_name: str
    image: str
    playbook: str             # path relative to the site directory
    playbook_text: bytes      # its content, read once when the spec is loaded
    playbook_error: str       # why it could not be read ("" when fine)
    service_account: str
    deadline: int | None
    where: Location
    playbook_where: Location


class Selector(msgspec.Struct, frozen=True):
    criteria: dict
    where: Location

    @property
    def exact(self) -> bool:
        """name/id/path selectors promise one VM each; patterns may match none."""
        return bool({"name", "id", "path"} & set(self.criteria))


class Override(msgspec.Struct, frozen=True):
    match: str
    target_name: str | None
    options: dict
    where: Location
    raw: Any


class Start(msgspec.Struct, frozen=True):
    attempt: int
    cutover: str
    vm_cutover: tuple[tuple[str, str, Location], ...]
    where: Location
    cancel: tuple[tuple[str, Location], ...] = ()   # VMs to cancel (name, id or path)
    cancel_all: bool = False
    resume_conversion: bool = False
    batches: tuple[int, ...] = ()                    # batches to start (empty: all)
    # a batch retried on its own (`retry --batch`): its name -> its attempt, and where
    attempts: tuple[tuple[str, int, Location], ...] = ()

    def attempt_of(self, batch: str) -> int:
        """The attempt a batch runs: its own when `attempts:` names it, else the plan's."""
        return next((n for name, n, _ in self.attempts if name == batch), self.attempt)


class Wave(msgspec.Struct, frozen=True):
    number: int
    start: str                 # ISO 8601 with offset, as written
    duration: str
    where: Location


class PlanSpec(msgspec.Struct):
    name: str
    object_name: str
    options: dict              # plan-level options, defaults applied
    vm_options: dict           # VM-level options set at plan or site level
    select: tuple[Selector, ...]
    exclude: tuple[Selector, ...]
    overrides: tuple[Override, ...]
    network_map: MapSpec
    storage_map: MapSpec
    start: Start | None
    done: bool
    where: Location
    raw: Any
    defaults_raw: Any
    wave: int | None = None
    batch_max: int | None = None          # batch: {maxVMs}
    done_batches: tuple[int, ...] = ()    # done: [1, 2]
    retired: bool = False
    remigrate: tuple[tuple[str, Location], ...] = ()   # VMs the ledger says moved, to migrate again
    batch_waves: tuple[tuple[str, int, Location], ...] = ()   # batch: {waves: {web-03: 3}} (mtvgen fit writes it)
    batch: int = 0                        # after lifecycle.expand: this batch's number (0 = not batched)
    parent: str = ""                      # after lifecycle.expand: the spec plan a batch comes from

    @property
    def spec_name(self) -> str:
        """The name of the plan in site.yaml (a batch's parent)."""
        return self.parent or self.name

    def option_where(self, key: str) -> Location:
        """Where an option was set: the plan, the site defaults, else the plan itself."""
        if isinstance(self.raw, dict) and key in self.raw:
            return yamlio.locate(self.raw, [key])
        if isinstance(self.defaults_raw, dict) and key in self.defaults_raw:
            return yamlio.locate(self.defaults_raw, [key])
        return self.where

    @property
    def type(self) -> str:
        return self.options.get("type", "cold")

    @property
    def target_namespace(self) -> str:
        return self.options["targetNamespace"]

    @property
    def transfer_network(self) -> tuple[str, str] | None:
        """(namespace, name) of the transfer network NAD; None for the pod network."""
        text = self.options.get("transferNetwork", "none")
        return None if text == "none" else split_ref(text, self.target_namespace)


class Suppression(msgspec.Struct, frozen=True):
    code: str
    plan: str
    vm: str
    reason: str
    where: Location
    batched: bool = False      # `plan` is a batched plan: it covers each of its batches (<plan>-NN)

    def matches(self, d: Diagnostic) -> bool:
        return (d.code == self.code and (not self.plan or self.plan == d.plan
                                         or (self.batched and names.batch_of(d.plan, {self.plan})[1] > 0))
                and (not self.vm or self.vm == d.vm))


class Acknowledgement(Suppression, frozen=True):
    """`acknowledge:`: a person takes responsibility for one located error (the codes of
    diagnostics.ACKNOWLEDGEABLE); the build goes on and says so, with the reason."""


class ArgoCDDelivery(msgspec.Struct, frozen=True, kw_only=True):
    namespace: str
    project: str
    create_project: bool
    root_project: str
    destination: dict          # {server: URL} or {name: cluster}
    windows: tuple[dict, ...]
    where: Location


class FluxDelivery(msgspec.Struct, frozen=True, kw_only=True):
    namespace: str
    source_ref: dict | None    # None: mtvgen emits a GitRepository
    interval: str
    timeout: str
    kube_config_secret: str
    service_account: str
    sops_secret: str
    where: Location


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    repo_url: str
    revision: str
    path: str                  # where the build output lives in the repository
    argocd: ArgoCDDelivery | None
    flux: FluxDelivery | None
    where: Location


class Site(msgspec.Struct):
    name: str
    dir: Path
    file: str                  # spec path as shown in messages
    mtv_namespace: str
    target_namespace: str
    source: Source
    destination: Destination
    hooks: dict[str, HookSpec]
    plans: list[PlanSpec]
    maps: list[MapSpec]
    suppressions: list[Suppression]
    raw: Any
    delivery: Delivery | None = None
    secret_files: tuple[secretfiles.SecretFile, ...] = ()   # `secrets:` (LUKS, offload)
    waves: dict[int, Wave] = msgspec.field(default_factory=dict)
    spec_plans: list[PlanSpec] = msgspec.field(default_factory=list)  # as written; `plans` are the Forklift plans
    acknowledgements: list[Acknowledgement] = msgspec.field(default_factory=list)
    plans_where: Location | None = None    # the `plans:` key
    spec_notes: list = msgspec.field(default_factory=list)   # the spec's own warnings and notes (spec_rules)
    policy: Any = None                     # the repository's policy.Policy (spec.load sets it)
    ledger: Any = None                     # the repository's ledger.Ledger of moved VMs (spec.load sets it)
    throughput: Any = None                 # throughput.Model from `throughput:`, when declared
    profile: Profile = msgspec.field(default_factory=Profile)   # the Forklift release it targets

    def __post_init__(self):
        if not self.spec_plans:
            self.spec_plans = list(self.plans)

    @property
    def lock_path(self) -> Path:
        return self.dir / LOCK_FILE

    @property
    def shown_dir(self) -> str:
        """The site directory as messages show it: what a hint's command takes."""
        return str(Path(self.file).parent)

    @property
    def lock_shown(self) -> str:
        """The lock's path as messages show it (beside the spec file as shown)."""
        return str(Path(self.file).parent / LOCK_FILE)

    def credential_blocks(self) -> list[tuple[str, Credentials | None, str, Location]]:
        """(label, credentials, provider type, where) of every Secret the site makes or names."""
        src, dst = self.source, self.destination
        blocks = []
        if not src.external:
            blocks.append(("source", src.credentials, src.type, src.where))
            blocks += [(f"ESXi host {h.name}", h.credentials, src.type, h.where) for h in src.hosts]
        if not dst.external:
            blocks.append(("destination", dst.credentials, "openshift", dst.where))
        return blocks

    def resolution_inputs(self) -> dict:
        """Everything resolution depends on, by section. The lock stores a digest
        of each section, so a build can say exactly what changed since the lock."""
        src = self.source
        inputs = {"source": [src.type, src.url, list(src.datacenters), sorted(h.name for h in src.hosts)]}
        for m in self.maps:
            inputs[f"{m.kind}-map {m.name}"] = [e.key() for e in m.entries]
        for p in self.spec_plans:
            inputs[f"plan {p.name}"] = [[s.criteria for s in p.select], [s.criteria for s in p.exclude]]
            if p.batch_max is not None:     # the lock splits the batches: a new maxVMs needs a new lock
                inputs[f"plan {p.name}"].append({"maxVMs": p.batch_max})
        return {k: digest(v) for k, v in sorted(inputs.items())}

    def section_where(self, section: str) -> Location:
        kind, _, name = section.partition(" ")
        if kind == "plan":
            return next((p.where for p in self.spec_plans if p.name == name), Location(self.file))
        if kind in ("network-map", "storage-map"):
            key = "networks" if kind == "network-map" else "storage"
            owner = next((m.owner for m in self.maps if m.name == name), "")
            plan = next((p for p in self.spec_plans if p.name == owner), None)
            return yamlio.locate(plan.raw if plan else self.raw, [key])
        return yamlio.locate(self.raw, [section])


def digest(value) -> str:
    """A short, stable digest of spec data (key order and line marks do not count)."""
    return "sha256:" + hashlib.sha256(json.dumps(yamlio.plain(value), sort_keys=True).encode()).hexdigest()[:16]
