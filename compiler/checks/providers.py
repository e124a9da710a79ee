"""Provider-type rules: credentials, ESXi hosts, OpenShift namespaces, oVirt LUNs
(catalog: provider specific)."""

from __future__ import annotations

import re

from ..diagnostics import Diagnostic
from .context import Context, vm_diag


def provider_rules(ctx: Context):
    site, src = ctx.site, ctx.site.source
    for label, creds, _type, _where in site.credential_blocks():
        if creds and creds.mode == "plaintextFromEnv" and not ctx.allow_plaintext:
            yield Diagnostic("MTV005", f"credentials.plaintextFromEnv writes the credentials into Git in plaintext "
                             f"({label})", creds.where, "use `externalSecret:`, or build with --allow-plaintext-secrets")
    for h in src.hosts:
        host = ctx.lock.hosts.get(ctx.lock.host_ids.get(h.name, ""))
        if host is None:
            continue
        if not h.ip and len(host.ip_addresses) != 1:
            found = ", ".join(host.ip_addresses) or "none"
            yield Diagnostic("MTV066", f"ESXi host {h.name!r} has {len(host.ip_addresses)} IP addresses ({found})",
                             h.where, "set ipAddress to the interface used for disk transfer")
        if host.in_maintenance:
            yield Diagnostic("MTV067", f"ESXi host {h.name!r} is in maintenance mode", h.where)
    for plan in site.plans:
        for p in ctx.vms(plan):
            if src.type == "openshift" and not p.vm.namespace:
                yield vm_diag("MTV064", p, plan, "has no namespace")
            for d in p.vm.disks:
                if not d.lun:
                    continue
                # upstream refuses direct LUNs only from engines older than 4.5.2.1
                # (plan/adapter/ovirt/validator.go canImportDirectDisksFromProvider)
                version = engine_version(ctx.lock.provider.identity)
                if version is not None and version < (4, 5, 2, 1):
                    yield vm_diag("MTV063", p, plan, f"disk {d.key} is a direct LUN, and the engine is "
                                  f"{'.'.join(map(str, version))} (before 4.5.2.1)")
                else:
                    yield vm_diag("MTV062", p, plan, f"disk {d.key} is a direct LUN")


def engine_version(identity: dict) -> tuple[int, ...] | None:
    """The oVirt engine's version from the provider identity (`engineVersion`, else `product`)."""
    text = str(identity.get("engineVersion") or identity.get("product") or "")
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
    return tuple(int(g or 0) for g in m.groups()) if m else None
