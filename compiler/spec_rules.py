"""Rules across the sections of a loaded site spec: references between sections,
URLs, delivery settings and credentials. Data in: a Site (sitemodel); data out:
Diagnostics at the spec lines involved. Run by spec.load after the schema.
"""

from __future__ import annotations

import difflib
import re

from . import names, yamlio
from .diagnostics import ACKNOWLEDGEABLE, CATALOG, ERROR, INFO, Diagnostic
from .errors import Location
from .sitemodel import Credentials, Site, Source
from .tables import PROVIDER_TYPES
from .urls import has_userinfo, http_url, redacted


def cross_references(site: Site):
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
    batched = {p.name for p in site.plans if p.batch_max is not None}
    for s in site.suppressions:      # a batch of a batched plan (web-02) may be named, whichever exist
        if s.plan and s.plan not in plan_names and not names.batch_of(s.plan, batched)[1]:
            yield Diagnostic("MTV002", f"suppression names plan '{s.plan}', which this site does not have", s.where)
        if s.code in CATALOG and CATALOG[s.code].severity == ERROR:
            able = s.code in ACKNOWLEDGEABLE
            yield Diagnostic("MTV129", f"suppress: {s.code} is an error, and suppressing does not silence an error",
                             s.where, "move it to `acknowledge:` (same fields) to take responsibility for it"
                             if able else f"fix what {s.code} reports; an error can only be acknowledged where "
                             f"it guards a running plan ({', '.join(ACKNOWLEDGEABLE)})")
    for a in site.acknowledgements:
        if a.code not in ACKNOWLEDGEABLE:
            yield Diagnostic("MTV001", f"acknowledge: {a.code} cannot be acknowledged", a.where,
                             f"only the errors that guard a running plan can: {', '.join(ACKNOWLEDGEABLE)}")
    yield from _source_type_rules(site, ptype)
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
        for batch, number, where in p.batch_waves:
            if number not in site.waves:
                yield Diagnostic("MTV120", f"batch '{batch}' is in wave {number}, which `waves:` does not define",
                                 where, f"waves: {', '.join(map(str, sorted(site.waves))) or 'none'}", plan=p.name)
            if p.batch_max is not None and names.batch_of(batch, {p.name})[1] == 0:
                yield Diagnostic("MTV172", f"batch.waves names '{batch}', which is not a batch of plan '{p.name}'",
                                 where, f"name a batch {p.name}-01, {p.name}-02, ...", plan=p.name)
    if site.waves and site.delivery is not None and site.delivery.flux is not None:
        yield Diagnostic("MTV123", "waves have windows, and Flux has no sync windows: a plan starts when its start "
                         "is merged", yamlio.locate(site.raw, ["waves"]))
    yield from _url_rules(site)
    if not site.source.external and not site.source.url and site.source.type != "openshift" and ptype.needs_url:
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
        shown = redacted(url)
        if has_userinfo(url):
            yield Diagnostic("MTV140", f"{'.'.join(path)}: {shown!r} carries credentials in the URL; they would be "
                             "written into the Provider and the lock", where,
                             "drop `user:password@`; credentials go in the Secret (`credentials:`)")
            continue
        if ptype == "ova":
            if not _NFS.match(url):
                yield Diagnostic("MTV001", f"{'.'.join(path)}: {shown!r} is not an NFS export (server:/path)", where,
                                 f"e.g. {PROVIDER_TYPES['ova'].url_hint}")
            continue
        parsed = http_url(url)
        if parsed is None:
            yield Diagnostic("MTV001", f"{'.'.join(path)}: {shown!r} is not an http(s) URL with a host", where,
                             f"e.g. {PROVIDER_TYPES[ptype].url_hint}")
        # plain http:// and insecureSkipVerify: policy.py (a policy may allow them)


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


def _source_type_rules(site: Site, ptype):
    """What a provider type needs besides credentials and a URL: no URL for EC2 (its region
    says where), Secret keys that are not secret (EC2's region, Hyper-V's SMB share) and
    Provider settings (EC2's target-az: its EBS volumes are made in that zone)."""
    src = site.source
    if src.external:
        return
    if not ptype.needs_url and src.url:
        yield Diagnostic("MTV001", f"source.url: a {ptype.name} Provider has no URL (its region says where)",
                         yamlio.locate(site.raw, ["source", "url"]), "remove it; set credentials.data.region")
    creds = src.credentials
    have = set(creds.data) | set(creds.properties) if creds is not None and creds.file is None else \
        set(creds.file.keys) if creds is not None and creds.file is not None else set()
    for key in ptype.required_data:
        if key not in have:
            yield Diagnostic("MTV005", f"the source ({ptype.name}) needs '{key}' in its Secret", src.where,
                             f"set credentials.data.{key} (it is not secret), or map it with "
                             f"credentials.externalSecret.properties")
    for key in ptype.required_settings:
        if not src.settings.get(key):
            yield Diagnostic("MTV001", f"source.settings.{key} is missing: a {ptype.name} Provider needs it",
                             src.where, "e.g. `settings: {target-az: us-east-1a}`, a zone where the workers run"
                             if key == "target-az" else f"set source.settings.{key}")


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
