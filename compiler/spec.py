"""Stage 1: load a site spec (sites/<site>/site.yaml) into a Site (sitemodel.py).

YAML with line marks -> JSON Schema (schemas/site.schema.json) -> Site ->
cross-section rules (spec_rules.py). Every problem is a Diagnostic that points
at the spec line.
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from pathlib import Path

from . import (crdschema, ledger, measured, names, policy, profile, quantity, resources, secretfiles, spec_rules,
               throughput, yamlio)
from .diagnostics import Diagnostic, finalize, has_errors, summary
from .errors import DiagnosticsFailed, Location, MtvgenError, UsageError
from .schemacheck import Schema
from .sitemodel import (SPEC_FILE, Acknowledgement, ArgoCDDelivery, Credentials, Delivery, Destination, FluxDelivery,
                        HookSpec, HostSpec, MapEntry, MapSpec, Override, PlanSpec, Selector, Site, Source, Start,
                        Suppression, Wave)

PLAN_OPTIONS = tuple(resources.schema("site.schema.json")["$defs"]["planOptions"]["properties"])
VM_OPTIONS = tuple(resources.schema("site.schema.json")["$defs"]["vmOptions"]["properties"])


# ------------------------------------------------------------------ loading

MAX_SPEC_BYTES = 4 << 20      # README "Limits"


def load(site_dir: Path, display_root: Path | None = None) -> Site:
    """Read and check sites/<site>/site.yaml. Raises DiagnosticsFailed listing
    every problem found, each at its line."""
    site_dir = Path(site_dir)
    path = site_dir / SPEC_FILE
    shown = yamlio.shown(path, display_root)
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
        diags += _where_diagnostics(site, raw, text, shown)
        diags += spec_rules.cross_references(site)
        site.policy = policy.load(site_dir.resolve().parent)
        site.ledger = ledger.load(site_dir.resolve().parent)
        diags += policy.check(site, site.policy)
    diags = finalize(diags)
    if has_errors(diags):
        raise DiagnosticsFailed(diags, f"{shown}: spec has errors: {summary(diags)}")
    site.spec_notes = diags          # warnings and notes: the checks report them with their own
    return site


def _where_diagnostics(site: Site, raw, text: str, shown: str) -> list:
    """Every `where:` compiled and type-checked now, so its errors point into the spec."""
    from . import selection
    lines = text.splitlines()
    out = []
    for i, plan in enumerate(site.spec_plans):
        for key, sels in (("select", plan.select), ("exclude", plan.exclude)):
            for j, sel in enumerate(sels):
                if "where" in sel.criteria:
                    at = yamlio.locate(raw, ["plans", i, key, j, "where"], shown)
                    line = lines[at.line - 1] if 0 < at.line <= len(lines) else ""
                    out += selection.diagnostics(sel.criteria["where"], at, line, plan.name)
    return out


def _allowed_keys(schema: dict, root: dict) -> set[str]:
    keys = set(schema.get("properties", {}))
    for sub in schema.get("allOf", []):
        if "$ref" in sub:
            sub = root["$defs"][sub["$ref"].rsplit("/", 1)[1]]
        keys |= _allowed_keys(sub, root)
    return keys


@lru_cache(maxsize=None)
def _site_schema() -> Schema:
    return Schema(resources.schema("site.schema.json"), "2020-12", formats=True)


def _schema_diagnostics(raw, file: str):
    schema = resources.schema("site.schema.json")
    if not isinstance(raw, dict):
        yield Diagnostic("MTV001", "a site spec must be a YAML mapping", Location(file, 1, 1),
                         help="start with `apiVersion: mtvgen/v1`")
        return
    for err in _site_schema().iter_errors(raw):
        yield from _explain(err, raw, schema, file)


_TYPE_NAMES = ((bool, "boolean"), (dict, "mapping"), (list, "list"), (str, "str"), (int, "integer"), (float, "number"))


def _shown(path: list, value) -> str:
    """A value as a message may quote it: never one under `credentials`, where a
    mistyped password (a number, say) would otherwise be echoed."""
    if _secret(path):
        return "(value not shown)"
    text = repr(yamlio.plain(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _explain(err, raw, root: dict, file: str):
    """One jsonschema.ValidationError as a located diagnostic."""
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
                          batches=tuple(st.get("batches", ())),
                          attempts=tuple((b, n, where("plans", i, "start", "attempts", b))
                                         for b, n in (st.get("attempts") or {}).items()))
        done = p.get("done", False)
        plans.append(PlanSpec(p["name"], object_name(site_name, p["name"]), options, vm_options, sel, exc, ovr,
                              net, sto, start, done is True, where("plans", i), p, defaults,
                              wave=p.get("wave"), batch_max=(p.get("batch") or {}).get("maxVMs"),
                              done_batches=tuple(done) if isinstance(done, list) else (),
                              retired=bool(p.get("retired")),
                              batch_waves=tuple((b, n, where("plans", i, "batch", "waves", b))
                                                for b, n in ((p.get("batch") or {}).get("waves") or {}).items()),
                              remigrate=tuple((str(v), where("plans", i, "remigrate", k))
                                              for k, v in enumerate(p.get("remigrate", [])))))
    batched = {p.name for p in plans if p.batch_max is not None}
    sups = [Suppression(x["code"], x.get("plan", ""), x.get("vm", ""), x["reason"], where("suppress", i),
                        batched=x.get("plan", "") in batched)
            for i, x in enumerate(raw.get("suppress", []))]
    waves = {w["wave"]: Wave(w["wave"], w["start"], w["duration"], where("waves", i))
             for i, w in enumerate(raw.get("waves", []))}
    tp = raw.get("throughput")
    model = None
    if tp:          # the schema held the rates to their pattern: they parse
        model = throughput.Model(throughput.rate(tp["perVM"]), throughput.rate(tp["total"]),
                                 tp.get("maxInFlight", throughput.DEFAULT_IN_FLIGHT),
                                 float(quantity.duration_seconds(tp.get("conversion", "0s"))),
                                 per_host=throughput.rate(tp.get("perHost", "0B/s")),
                                 per_datastore=throughput.rate(tp.get("perDatastore", "0B/s")),
                                 hosts={k: throughput.rate(v) for k, v in (tp.get("hosts") or {}).items()},
                                 datastores={k: throughput.rate(v) for k, v in (tp.get("datastores") or {}).items()},
                                 where=where("throughput"),
                                 warm_delta=float(str(tp.get("warmDelta", "0%")).rstrip("%")) / 100)
    if (site_dir / measured.FILE).is_file():      # what finished runs did: preferred to the declaration
        model = measured.model(site_dir, model)
    extra = tuple(secretfiles.read(site_dir, x.get("sealedSecret") or x.get("sops"),
                                   "sealedSecret" if "sealedSecret" in x else "sops", mtv_ns, where("secrets", i))
                  for i, x in enumerate(raw.get("secrets", [])))
    acks = [Acknowledgement(x["code"], x.get("plan", ""), x.get("vm", ""), x["reason"], where("acknowledge", i),
                            batched=x.get("plan", "") in batched)
            for i, x in enumerate(raw.get("acknowledge", []))]
    return Site(site_name, site_dir, file, mtv_ns, raw["targetNamespace"], source, destination, hooks, plans, maps,
                sups, raw, _delivery(site_name, raw.get("delivery"), file), extra, waves,
                acknowledgements=acks, plans_where=where("plans"),
                profile=_profile(site_dir, raw.get("forkliftVersion"), where("forkliftVersion"), diags),
                throughput=model)


def _profile(site_dir: Path, asked, where: Location, diags: list) -> profile.Profile:
    """The release the site targets: `forkliftVersion:`, else the one its pulled CRDs
    (`mtvgen schemas pull`) name, else the commit the project's schemas come from."""
    if asked is None:
        pulled = crdschema.pulled_release(site_dir)
        found = profile.resolve(pulled) if pulled else None
        return found or profile.Profile()
    found = profile.resolve(asked)
    if found is None:
        diags.append(Diagnostic("MTV008", f"forkliftVersion {str(asked)!r} is not a release mtvgen has facts for "
                                f"(it knows {profile.known()})", where,
                                "name one of those (a newer release: `main`, the newest mtvgen knows)"))
        return profile.Profile()
    return found


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
