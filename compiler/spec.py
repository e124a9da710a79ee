"""Stage 1: load a site spec (sites/<site>/site.yaml) into dataclasses.

YAML with line marks -> JSON Schema (schemas/site.schema.json) -> cross-reference
checks -> Site. Every problem is a Diagnostic that points at the spec line.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema

from . import names, resources, secretfiles, yamlio
from .diagnostics import INFO, Diagnostic, finalize, has_errors, summary
from .errors import DiagnosticsFailed, Location, MtvgenError, UsageError
from .tables import PROVIDER_TYPES

SPEC_FILE = "site.yaml"
LOCK_FILE = "mtvgen.lock"
PLAN_OPTIONS = tuple(resources.schema("site.schema.json")["$defs"]["planOptions"]["properties"])
VM_OPTIONS = tuple(resources.schema("site.schema.json")["$defs"]["vmOptions"]["properties"])


@dataclass(frozen=True)
class Credentials:
    mode: str                        # secret | externalSecret | sealedSecret | sops | plaintextFromEnv | reuseProvider
    secret: str = ""
    store: str = ""
    store_kind: str = "ClusterSecretStore"
    key: str = ""
    refresh: str = "1h"
    properties: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    where: Location | None = None
    file: secretfiles.SecretFile | None = None   # sealedSecret / sops

    @property
    def emits_secret(self) -> bool:
        """Does the build write something that creates the Secret (as opposed to naming one)?"""
        return self.mode not in ("secret", "reuseProvider")


@dataclass(frozen=True)
class HostSpec:
    name: str
    ip: str
    credentials: Credentials | None
    where: Location


@dataclass(frozen=True)
class Source:
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


@dataclass(frozen=True)
class Destination:
    name: str
    external: bool
    where: Location
    url: str = ""
    credentials: Credentials | None = None
    insecure: bool = False


@dataclass(frozen=True)
class MapEntry:
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


@dataclass(frozen=True)
class MapSpec:
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


@dataclass(frozen=True)
class HookSpec:
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


@dataclass(frozen=True)
class Selector:
    criteria: dict
    where: Location

    @property
    def exact(self) -> bool:
        """name/id/path selectors promise one VM each; patterns may match none."""
        return bool({"name", "id", "path"} & set(self.criteria))


@dataclass(frozen=True)
class Override:
    match: str
    target_name: str | None
    options: dict
    where: Location
    raw: Any


@dataclass(frozen=True)
class Start:
    attempt: int
    cutover: str
    vm_cutover: tuple[tuple[str, str, Location], ...]
    where: Location
    cancel: tuple[tuple[str, Location], ...] = ()   # VMs to cancel (name, id or path)
    cancel_all: bool = False
    resume_conversion: bool = False
    batches: tuple[int, ...] = ()                    # batches to start (empty: all)


@dataclass(frozen=True)
class Wave:
    number: int
    start: str                 # ISO 8601 with offset, as written
    duration: str
    where: Location


@dataclass
class PlanSpec:
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


@dataclass(frozen=True)
class Suppression:
    code: str
    plan: str
    vm: str
    reason: str
    where: Location

    def matches(self, d: Diagnostic) -> bool:
        return (d.code == self.code and (not self.plan or self.plan == d.plan)
                and (not self.vm or self.vm == d.vm))


@dataclass(frozen=True, kw_only=True)
class ArgoCDDelivery:
    namespace: str
    project: str
    create_project: bool
    root_project: str
    destination: dict          # {server: URL} or {name: cluster}
    windows: tuple[dict, ...]
    where: Location


@dataclass(frozen=True, kw_only=True)
class FluxDelivery:
    namespace: str
    source_ref: dict | None    # None: mtvgen emits a GitRepository
    interval: str
    timeout: str
    kube_config_secret: str
    service_account: str
    sops_secret: str
    where: Location


@dataclass(frozen=True, kw_only=True)
class Delivery:
    repo_url: str
    revision: str
    path: str                  # where the build output lives in the repository
    argocd: ArgoCDDelivery | None
    flux: FluxDelivery | None
    where: Location


@dataclass
class Site:
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
    waves: dict[int, Wave] = field(default_factory=dict)
    spec_plans: list[PlanSpec] = field(default_factory=list)  # as written; `plans` are the Forklift plans

    def __post_init__(self):
        if not self.spec_plans:
            self.spec_plans = list(self.plans)

    @property
    def lock_path(self) -> Path:
        return self.dir / LOCK_FILE

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
        return {k: _digest(v) for k, v in sorted(inputs.items())}

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


def _digest(value) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(yamlio.plain(value), sort_keys=True).encode()).hexdigest()[:16]


# ------------------------------------------------------------------ loading

MAX_SPEC_BYTES = 4 << 20      # README "Limits"


def load(site_dir: Path, display_root: Path | None = None) -> Site:
    """Read and check sites/<site>/site.yaml. Raises DiagnosticsFailed listing
    every problem found, each at its line."""
    site_dir = Path(site_dir)
    path = site_dir / SPEC_FILE
    shown = _display(path, display_root)
    name = site_dir.resolve().name
    if not names.is_label(name):
        raise MtvgenError(f"site directory name {name!r} is not a DNS-1123 label (it names the site's objects "
                          "and its output directory)", where=Location(shown),
                          fix="rename the directory (lowercase letters, digits, '-'), or pass it as sites/<name>")
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise MtvgenError(f"the spec is {size:,} bytes; the limit is {MAX_SPEC_BYTES:,}", where=Location(shown),
                              fix="a site spec selects VMs by pattern: it stays small; split the site")
        text = yamlio.decode(path.read_bytes(), shown)
    except FileNotFoundError:
        raise MtvgenError(f"no site spec in {site_dir}", where=Location(shown),
                          fix=f"create {shown} (see sites/ for examples, or run `mtvgen init`)") from None
    except IsADirectoryError:
        raise MtvgenError(f"{shown} is a directory", where=Location(shown), fix="site.yaml must be a file") from None
    except PermissionError as exc:
        raise UsageError(f"cannot read {shown}: {exc.strerror}", where=Location(shown),
                         fix="check the file's permissions") from None
    raw = yamlio.load_marked(text, shown)
    diags = list(_schema_diagnostics(raw, shown))
    if not has_errors(diags):
        site = _build(site_dir, shown, raw, diags)
        diags += _cross_references(site)
    diags = finalize(diags)
    if has_errors(diags):
        raise DiagnosticsFailed(diags, f"{shown}: spec has errors: {summary(diags)}")
    return site


def _display(path: Path, root: Path | None) -> str:
    try:
        return str(path.resolve().relative_to((root or Path.cwd()).resolve()))
    except ValueError:
        return str(path)


def _allowed_keys(schema: dict, root: dict) -> set[str]:
    keys = set(schema.get("properties", {}))
    for sub in schema.get("allOf", []):
        if "$ref" in sub:
            sub = root["$defs"][sub["$ref"].rsplit("/", 1)[1]]
        keys |= _allowed_keys(sub, root)
    return keys


def _schema_diagnostics(raw, file: str):
    schema = resources.schema("site.schema.json")
    if not isinstance(raw, dict):
        yield Diagnostic("MTV001", "a site spec must be a YAML mapping", Location(file, 1, 1),
                         help="start with `apiVersion: mtvgen/v1`")
        return
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for err in validator.iter_errors(raw):
        yield from _explain(err, raw, schema, file)


_TYPE_NAMES = ((bool, "boolean"), (dict, "mapping"), (list, "list"), (str, "str"), (int, "integer"), (float, "number"))


def _shown(path: list, value) -> str:
    """A value as a message may quote it: never one under `credentials`, where a
    mistyped password (a number, say) would otherwise be echoed."""
    if _secret(path):
        return "(value not shown)"
    text = repr(yamlio.plain(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _explain(err: jsonschema.ValidationError, raw, root: dict, file: str):
    path = list(err.absolute_path)
    where = yamlio.locate(raw, path, file)
    dotted = ".".join(str(p) for p in path) or "(top level)"
    custom = err.schema.get("x-error") if isinstance(err.schema, dict) else None
    if err.instance is None and err.validator not in ("required",):
        yield Diagnostic("MTV001", f"{dotted}: no value given", where,
                         "fill it in (`mtvgen init` leaves `null  # TODO` placeholders)")
        return
    if err.validator in ("additionalProperties", "unevaluatedProperties"):
        allowed = _allowed_keys(err.schema, root)
        for key in sorted(set(err.instance) - allowed):
            near = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.5)
            fix = f"did you mean '{near[0]}'?" if near else f"valid keys here: {', '.join(sorted(allowed))}"
            yield Diagnostic("MTV001", f"unknown key '{key}' in {dotted}", yamlio.key_location(err.instance, key), fix)
        return
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        yield Diagnostic("MTV001", f"{dotted}: missing required key '{missing}'", where,
                         f"add `{missing}:` here")
        return
    if err.validator == "oneOf" and custom:
        yield Diagnostic("MTV001", f"{dotted}: {custom}", where)
        return
    if custom:
        yield Diagnostic("MTV001", f"{dotted}: {_shown(path, err.instance)} {custom}", where)
        return
    if err.validator == "type":
        want = err.validator_value
        got = next((name for kind, name in _TYPE_NAMES if isinstance(err.instance, kind)), type(err.instance).__name__)
        yield Diagnostic("MTV001", f"{dotted}: expected {want}, got {got} {_shown(path, err.instance)}", where,
                         "quote the value if it is meant as text" if want == "string" else "")
        return
    if err.validator == "enum":
        yield Diagnostic("MTV001", f"{dotted}: {_shown(path, err.instance)} is not one of "
                         f"{', '.join(map(str, err.validator_value))}", where)
        return
    yield Diagnostic("MTV001", f"{dotted}: {err.message if not _secret(path) else 'is not valid'}", where)


def _secret(path: list) -> bool:
    return "credentials" in path or "plaintextFromEnv" in path


def _credentials(raw, file, site_dir: Path, namespace: str) -> Credentials | None:
    if raw is None:
        return None
    where = yamlio.locate(raw, [], file)
    data = dict(raw.get("data", {}))
    for mode in ("sealedSecret", "sops"):
        if mode in raw:
            sf = secretfiles.read(site_dir, raw[mode], mode, namespace, yamlio.locate(raw, [mode], file))
            return Credentials(mode, secret=sf.name, data=data, where=where, file=sf)
    if "secret" in raw:
        return Credentials("secret", secret=raw["secret"], data=data, where=where)
    if "externalSecret" in raw:
        es = raw["externalSecret"]
        return Credentials("externalSecret", store=es["store"], store_kind=es.get("storeKind", "ClusterSecretStore"),
                           key=es["key"], refresh=es.get("refreshInterval", "1h"),
                           properties=dict(es.get("properties", {})), data=data, where=where)
    return Credentials("plaintextFromEnv", env=dict(raw["plaintextFromEnv"]), data=data, where=where)


def _map(kind: str, name: str, owner: str, namespace: str, raw_list, file) -> MapSpec:
    entries = []
    for i, e in enumerate(raw_list or []):
        where = yamlio.locate(raw_list, [i], file)
        entries.append(MapEntry(kind, e.get("source", ""), e.get("id", ""), e.get("datacenter", ""), where,
                                target=e.get("target", ""), storage_class=e.get("storageClass", ""),
                                volume_mode=e.get("volumeMode", ""), access_mode=e.get("accessMode", ""),
                                offload=yamlio.plain(e.get("offload"))))
    return MapSpec(kind, name, owner, namespace, tuple(entries))


def _read_playbook(site_dir: Path, rel: str) -> tuple[bytes, str]:
    if not rel:
        return b"", ""
    path, why = secretfiles.inside(site_dir, rel)
    if path is None:  # never embed a file from outside the site into a manifest that gets committed
        return b"", why
    try:
        return path.read_bytes(), ""
    except OSError as exc:
        return b"", exc.strerror or str(exc)


def object_name(*parts: str) -> str:
    return names.to_label("-".join(p for p in parts if p))


def _build(site_dir: Path, file: str, raw, diags: list) -> Site:
    site_name = site_dir.resolve().name
    where = lambda *path: yamlio.locate(raw, list(path), file)  # noqa: E731
    s = raw["source"]
    ptype = s["type"]
    mtv_ns = raw.get("mtvNamespace", "openshift-mtv")
    hosts = tuple(HostSpec(h["name"], h.get("ipAddress", ""), _host_credentials(h, file, site_dir, mtv_ns),
                           where("source", "hosts", i)) for i, h in enumerate(s.get("hosts", [])))
    source = Source(ptype, s.get("name") or object_name(site_name, ptype), s.get("url", ""), bool(s.get("external")),
                    _credentials(s.get("credentials"), file, site_dir, mtv_ns), bool(s.get("insecureSkipVerify")),
                    s.get("vddkImage", ""), s.get("sdkEndpoint", "vcenter"), dict(s.get("settings", {})),
                    tuple(s.get("datacenters", [])), hosts, where("source"))
    d = raw.get("destination") or {}
    if d.get("url") or d.get("name"):
        destination = Destination(d.get("name") or object_name(site_name, "destination"), False, where("destination"),
                                  d.get("url", ""), _credentials(d.get("credentials"), file, site_dir, mtv_ns),
                                  bool(d.get("insecureSkipVerify")))
    else:
        destination = Destination(d.get("provider", "host"), True, where("destination"))

    hooks = {}
    for i, h in enumerate(raw.get("hooks", [])):
        if h["name"] in hooks:
            diags.append(Diagnostic("MTV003", f"hook '{h['name']}' is defined twice", where("hooks", i, "name"),
                                    f"the first is at line {hooks[h['name']].where.line}"))
            continue
        text, error = _read_playbook(site_dir, h.get("playbook", ""))
        hooks[h["name"]] = HookSpec(h["name"], object_name(site_name, h["name"]), h.get("image", ""),
                                    h.get("playbook", ""), text, error, h.get("serviceAccount", ""),
                                    h.get("deadline"), where("hooks", i), where("hooks", i, "playbook"))

    defaults = raw.get("defaults") or {}
    target_ns = raw["targetNamespace"]
    site_net = _map("network", object_name(site_name, "network"), "", target_ns, raw.get("networks"), file)
    site_sto = _map("storage", object_name(site_name, "storage"), "", target_ns, raw.get("storage"), file)
    maps = [site_net, site_sto]
    plans, seen = [], {}
    for i, p in enumerate(raw["plans"]):
        if p["name"] in seen:
            diags.append(Diagnostic("MTV003", f"plan '{p['name']}' is defined twice", where("plans", i, "name"),
                                    f"the first is at line {seen[p['name']].line}; rename one"))
            continue
        seen[p["name"]] = where("plans", i)
        options = {"targetNamespace": target_ns}
        options.update({k: defaults[k] for k in PLAN_OPTIONS if k in defaults})
        options.update({k: p[k] for k in PLAN_OPTIONS if k in p})
        vm_options = {k: defaults[k] for k in VM_OPTIONS if k in defaults}
        vm_options.update({k: p[k] for k in VM_OPTIONS if k in p})
        net, sto = site_net, site_sto
        if "networks" in p:
            net = _map("network", object_name(site_name, p["name"], "network"), p["name"],
                       options["targetNamespace"], p["networks"], file)
            maps.append(net)
        if "storage" in p:
            sto = _map("storage", object_name(site_name, p["name"], "storage"), p["name"],
                       options["targetNamespace"], p["storage"], file)
            maps.append(sto)
        sel = tuple(Selector(yamlio.plain(x), where("plans", i, "select", j)) for j, x in enumerate(p["select"]))
        exc = tuple(Selector(yamlio.plain(x), where("plans", i, "exclude", j)) for j, x in enumerate(p.get("exclude", [])))
        ovr = tuple(Override(o["match"], o.get("targetName"), {k: o[k] for k in VM_OPTIONS if k in o},
                             where("plans", i, "vms", j), o) for j, o in enumerate(p.get("vms", [])))
        start = None
        if "start" in p:
            st = p["start"] if isinstance(p["start"], dict) else {}
            cancel = st.get("cancel", [])
            start = Start(st.get("attempt", 1), st.get("cutover", ""),
                          tuple((c["vm"], c["cutover"], where("plans", i, "start", "vmCutover", k))
                                for k, c in enumerate(st.get("vmCutover", []))), where("plans", i, "start"),
                          cancel=() if cancel == "all" else tuple((c, where("plans", i, "start", "cancel", k))
                                                                    for k, c in enumerate(cancel)),
                          cancel_all=cancel == "all", resume_conversion=bool(st.get("resumeConversion")),
                          batches=tuple(st.get("batches", ())))
        done = p.get("done", False)
        plans.append(PlanSpec(p["name"], object_name(site_name, p["name"]), options, vm_options, sel, exc, ovr,
                              net, sto, start, done is True, where("plans", i), p, defaults,
                              wave=p.get("wave"), batch_max=(p.get("batch") or {}).get("maxVMs"),
                              done_batches=tuple(done) if isinstance(done, list) else (),
                              retired=bool(p.get("retired"))))
    sups = [Suppression(x["code"], x.get("plan", ""), x.get("vm", ""), x["reason"], where("suppress", i))
            for i, x in enumerate(raw.get("suppress", []))]
    waves = {w["wave"]: Wave(w["wave"], w["start"], w["duration"], where("waves", i))
             for i, w in enumerate(raw.get("waves", []))}
    extra = tuple(secretfiles.read(site_dir, x.get("sealedSecret") or x.get("sops"),
                                   "sealedSecret" if "sealedSecret" in x else "sops", mtv_ns, where("secrets", i))
                  for i, x in enumerate(raw.get("secrets", [])))
    return Site(site_name, site_dir, file, mtv_ns, raw["targetNamespace"], source, destination, hooks, plans, maps,
                sups, raw, _delivery(site_name, raw.get("delivery"), file), extra, waves)


def _host_credentials(raw, file, site_dir: Path, namespace: str) -> Credentials | None:
    if raw.get("reuseProviderCredentials"):
        return Credentials("reuseProvider", where=yamlio.locate(raw, ["reuseProviderCredentials"], file))
    return _credentials(raw.get("credentials"), file, site_dir, namespace)


def _delivery(site_name: str, raw, file) -> Delivery | None:
    if raw is None:
        return None
    argocd = flux = None
    if "argocd" in raw:
        a = raw["argocd"] or {}
        argocd = ArgoCDDelivery(namespace=a.get("namespace", "argocd"), project=a.get("project", f"mtv-{site_name}"),
                                create_project=a.get("createProject", True), root_project=a.get("rootProject", "default"),
                                destination=yamlio.plain(a.get("destination", {"server": "https://kubernetes.default.svc"})),
                                windows=tuple(yamlio.plain(w) for w in a.get("syncWindows", [])),
                                where=yamlio.locate(raw, ["argocd"], file))
    if "flux" in raw:
        f = raw["flux"] or {}
        flux = FluxDelivery(namespace=f.get("namespace", "flux-system"), source_ref=yamlio.plain(f.get("sourceRef")),
                            interval=f.get("interval", "10m"), timeout=f.get("timeout", "5m"),
                            kube_config_secret=f.get("kubeConfigSecret", ""), service_account=f.get("serviceAccountName", ""),
                            sops_secret=f.get("sopsSecret", ""), where=yamlio.locate(raw, ["flux"], file))
    return Delivery(repo_url=raw["repoURL"], revision=raw.get("revision", "main"), path=raw.get("path", "out"),
                    argocd=argocd, flux=flux, where=yamlio.locate(raw, [], file))


def _cross_references(site: Site):
    """Names that must point at something the spec defines, and type rules that
    a schema cannot express."""
    ptype = PROVIDER_TYPES[site.source.type]
    owners = [(site.raw.get("defaults") or {}, "")] + [(plan.raw, plan.name) for plan in site.plans]
    owners += [(o.raw, plan.name) for plan in site.plans for o in plan.overrides]
    for raw, plan in owners:
        for key in ("preHook", "postHook"):
            name = raw.get(key)
            if name and name not in site.hooks:
                near = difflib.get_close_matches(name, list(site.hooks), n=1)
                yield Diagnostic("MTV002", f"{key} '{name}' is not a hook of this site", yamlio.locate(raw, [key]),
                                 f"did you mean '{near[0]}'?" if near else "define it under `hooks:`", plan=plan)
    plan_names = {p.name for p in site.plans}
    for s in site.suppressions:
        if s.plan and s.plan not in plan_names:
            yield Diagnostic("MTV002", f"suppression names plan '{s.plan}', which this site does not have", s.where)
    if site.source.hosts and not ptype.has_hosts:
        yield Diagnostic("MTV065", f"source.hosts is set, but {ptype.name} sources have no ESXi hosts",
                         yamlio.locate(site.raw, ["source", "hosts"]))
    for label, creds, type_, where in site.credential_blocks():
        if label.startswith("ESXi host"):
            yield from _host_rules(label, creds, site.source, where)
        else:
            yield from _credential_rules(label, creds, PROVIDER_TYPES[type_], where)
    for sf in site.secret_files:
        for problem in sf.problems:
            yield Diagnostic("MTV007", problem, sf.where)
    yield from _delivery_rules(site)
    for p in site.plans:
        if p.wave is not None and p.wave not in site.waves:
            yield Diagnostic("MTV120", f"plan '{p.name}' is in wave {p.wave}, which `waves:` does not define",
                             yamlio.locate(p.raw, ["wave"]), f"waves: {', '.join(map(str, sorted(site.waves))) or 'none'}",
                             plan=p.name)
    if site.waves and site.delivery is not None and site.delivery.flux is not None:
        yield Diagnostic("MTV123", "waves have windows, and Flux has no sync windows: a plan starts when its start "
                         "is merged", yamlio.locate(site.raw, ["waves"]))
    yield from _url_rules(site)
    if not site.source.external and not site.source.url and site.source.type != "openshift":
        yield Diagnostic("MTV001", f"source.url is required for {site.source.type} (e.g. {ptype.url_hint})",
                         site.source.where)


_NFS = re.compile(r"^[^:/\s]+:/[^:\s]*$")


def _url_rules(site: Site):
    """The Provider controller only parses URLs (url.Parse accepts almost anything), so a
    URL without a scheme fails at connection time; catch it here."""
    checks = []
    if not site.source.external and site.source.url:
        checks.append((["source", "url"], site.source.url, site.source.type))
    if not site.destination.external and site.destination.url:
        checks.append((["destination", "url"], site.destination.url, "openshift"))
    for path, url, ptype in checks:
        where = yamlio.locate(site.raw, path)
        if ptype == "ova":
            if not _NFS.match(url):
                yield Diagnostic("MTV001", f"{'.'.join(path)}: {url!r} is not an NFS export (server:/path)", where,
                                 f"e.g. {PROVIDER_TYPES['ova'].url_hint}")
            continue
        parsed = urlparse(url)
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            yield Diagnostic("MTV001", f"{'.'.join(path)}: {url!r} is not an http(s) URL with a host", where,
                             f"e.g. {PROVIDER_TYPES[ptype].url_hint}")


def _delivery_rules(site: Site):
    d = site.delivery
    if d is None:
        return
    files = [sf for _l, c, _t, _w in site.credential_blocks() if c and (sf := c.file)] + list(site.secret_files)
    sops = [sf for sf in files if sf.mode == "sops"]
    if d.argocd is not None and not d.argocd.create_project and (d.argocd.windows or site.waves):
        yield Diagnostic("MTV113", "sync windows (syncWindows, waves) need the AppProject mtvgen writes, and "
                         "createProject is false", d.argocd.where, "add the windows to your AppProject yourself, "
                         "or let mtvgen write it")
    if d.argocd is not None:
        plans = {p.name for p in site.plans}
        for i, w in enumerate(d.argocd.windows):
            for j, name in enumerate(w.get("plans", [])):
                if name not in plans:
                    near = difflib.get_close_matches(name, sorted(plans), n=1)
                    yield Diagnostic("MTV111", f"sync window names plan '{name}', which this site does not have",
                                     yamlio.locate(site.raw, ["delivery", "argocd", "syncWindows", i, "plans", j]),
                                     f"did you mean '{near[0]}'?" if near else "")
        for sf in sops:
            yield Diagnostic("MTV110", f"{sf.path} is SOPS-encrypted and delivered by Argo CD", sf.where)
    if d.flux is not None and sops and not d.flux.sops_secret:
        yield Diagnostic("MTV112", f"{len(sops)} SOPS-encrypted file(s) and no delivery.flux.sopsSecret", d.flux.where)


def _host_rules(label: str, creds: Credentials | None, source: Source, where: Location):
    """Forklift's Host controller logs in to the ESXi host with the Host's Secret; upstream fills it
    from the provider's credentials only when the provider's sdkEndpoint is esxi (host-secret mutator)."""
    if creds is None:
        yield Diagnostic("MTV068", f"the {label} has no credentials", where,
                         "add `credentials:` for an ESXi account, or `reuseProviderCredentials: true` if the "
                         "provider's account exists on the host")
    elif creds.mode == "reuseProvider":
        if source.sdk_endpoint != "esxi":
            yield Diagnostic("MTV068", f"the {label} reuses the vCenter credentials of the provider", creds.where,
                             "only right if that account can log in to the ESXi host itself", severity=INFO)
    else:
        yield from _credential_rules(label, creds, PROVIDER_TYPES[source.type], where)


def _credential_rules(label: str, creds: Credentials | None, ptype, where: Location):
    if creds is not None and creds.file is not None:
        yield from _file_rules(label, creds, ptype)
        return
    if creds is None:
        if ptype.secret_keys:
            yield Diagnostic("MTV005", f"the {label} ({ptype.name}) needs credentials "
                             f"({', '.join(ptype.secret_keys)})", where,
                             "add `credentials:` with `secret:` or `externalSecret:`")
        return
    for key in creds.data:
        if key in ptype.secret_keys or key in ("ca.crt", "cacert"):
            yield Diagnostic("MTV005", f"credentials.data.{key} would put a secret value in Git", creds.where,
                             f"fetch '{key}' through externalSecret instead")
        elif key not in ptype.literal_keys:
            yield Diagnostic("MTV005", f"credentials.data.{key} is not a {ptype.name} provider Secret key", creds.where,
                             f"valid keys: {', '.join(ptype.literal_keys)}")
    if creds.mode == "plaintextFromEnv":
        missing = [k for k in ptype.secret_keys if k not in creds.env]
        if missing:
            yield Diagnostic("MTV005", f"plaintextFromEnv lacks {', '.join(missing)} for the {label} ({ptype.name})",
                             creds.where, f"map {missing[0]} to an environment variable")


def _file_rules(label: str, creds: Credentials, ptype):
    sf = creds.file
    for problem in sf.problems:
        yield Diagnostic("MTV007", problem, sf.where)
    if creds.data:
        yield Diagnostic("MTV005", f"credentials.data cannot be added to the {sf.mode} file of the {label}", creds.where,
                         f"put {', '.join(sorted(creds.data))} into {sf.path} before encrypting it")
    if sf.problems:
        return
    missing = [k for k in ptype.secret_keys if k not in sf.keys]
    if ptype.needs_ca and not {"ca.crt", "cacert", "insecureSkipVerify"} & set(sf.keys):
        missing.append("ca.crt (or insecureSkipVerify)")
    if missing:
        yield Diagnostic("MTV005", f"{sf.path} lacks {', '.join(missing)} for the {label} ({ptype.name})", sf.where,
                         "add the keys and encrypt the file again")
