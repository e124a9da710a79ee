"""Object names, service accounts and name templates (catalog: names)."""

from __future__ import annotations

import re

from .. import names
from ..diagnostics import Diagnostic
from .context import Context


_TEMPLATE_VARS = {
    "pvcNameTemplate": {"VmName": "db01", "PlanName": "wave1", "DiskIndex": "0", "RootDiskIndex": "0",
                        "Shared": "false", "FileName": "disk-0", "WinDriveLetter": "c"},
    "volumeNameTemplate": {"PVCName": "db01-disk-0", "VolumeIndex": "0"},
    "networkNameTemplate": {"NetworkName": "app-net", "NetworkNamespace": "apps", "NetworkType": "Multus",
                            "NetworkIndex": "0"},
}


def _template_problem(key: str, template: str) -> str:
    variables = _TEMPLATE_VARS[key]
    unknown = sorted(set(re.findall(r"\.([A-Za-z]+)", " ".join(re.findall(r"{{(.*?)}}", template)))) - set(variables))
    if unknown:
        return f"uses unknown variable(s) {', '.join('.' + u for u in unknown)}; known: " + \
            ", ".join("." + v for v in variables)
    sample = re.sub(r"{{[^}]*?\.([A-Za-z]+)[^}]*}}", lambda m: variables[m.group(1)], template)
    if "{{" in sample or not names.is_label(sample):
        return f"gives {sample!r}, not a DNS-1123 label"
    return ""


def names_and_templates(ctx: Context):
    site = ctx.site
    for plan in site.plans:
        plain = f"{site.name}-{plan.name}"
        if plan.object_name != plain:
            yield Diagnostic("MTV023", f"plan object name {plain!r} is longer than 63; it becomes {plan.object_name!r}",
                             plan.where, plan=plan.name)
        sa = plan.options.get("serviceAccount")
        if sa is not None and not names.is_label(sa):
            yield Diagnostic("MTV024", f"serviceAccount {sa!r} is not a valid name", plan.option_where("serviceAccount"),
                             plan=plan.name)
        for key in _TEMPLATE_VARS:
            sources = [(plan.vm_options.get(key), plan.option_where(key))]
            sources += [(o.options.get(key), o.where) for o in plan.overrides]
            for template, where in sources:
                problem = template and _template_problem(key, template)
                if problem:
                    yield Diagnostic("MTV025", f"{key} {template!r} {problem}", where, plan=plan.name)
