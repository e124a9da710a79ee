"""Object names, service accounts and name templates (catalog: names)."""

from __future__ import annotations

import re

from .. import names
from ..diagnostics import Diagnostic
from .context import Context, vm_diag


# The template data of kubev2v/forklift d42511b (pkg/apis/forklift/v1beta1/plan.go:
# PVCNameTemplateData, VolumeNameTemplateData, NetworkNameTemplateData), with sample values.
_TEMPLATE_VARS = {
    "pvcNameTemplate": {"VmName": "db01", "TargetVmName": "db01", "PlanName": "wave1", "DiskIndex": "0",
                        "VmId": "vm-1", "RootDiskIndex": "0", "Shared": "false", "FileName": "disk-0",
                        "WinDriveLetter": "c", "SourcePVCName": "db01-root", "SourcePVCNamespace": "apps",
                        "VolumeID": "vol-1", "SnapshotID": "snap-1", "DiskId": "disk-1"},
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


# Kubernetes label syntax (apimachinery validation IsQualifiedName / IsValidLabelValue)
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _label_key_problem(key: str) -> str:
    prefix, _, name = key.rpartition("/")
    if prefix and not (names.is_subdomain(prefix)):
        return f"its prefix {prefix!r} is not a DNS-1123 subdomain"
    if not name or len(name) > 63 or not _LABEL_NAME.match(name):
        return "its name is not 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
    return ""


def target_labels(ctx: Context):
    """targetLabels land on the migrated VMs: the API server refuses a bad label, and the
    whole VM creation fails with it, late in the run."""
    for plan in ctx.site.plans:
        sources = [(plan.options.get("targetLabels") or plan.vm_options.get("targetLabels"),
                    plan.option_where("targetLabels"))]
        sources += [(o.options.get("targetLabels"), o.where) for o in plan.overrides]
        for labels, where in sources:
            for key, value in (labels or {}).items():
                problem = _label_key_problem(str(key))
                if problem:
                    yield Diagnostic("MTV026", f"targetLabels key {key!r}: {problem}", where, plan=plan.name)
                if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
                    yield Diagnostic("MTV026", f"targetLabels value {value!r} of {key!r} is not a label value "
                                     "(at most 63 letters, digits, '-', '_' or '.', starting and ending with a "
                                     "letter or digit; quote numbers and booleans)", where, plan=plan.name)


_FIELD_ONLY = re.compile(r"{{\s*\.([A-Za-z]+)\s*}}")


def pvc_names(ctx: Context):
    """A pvcNameTemplate rendered for each VM and disk, as Forklift renders it before the
    copy (adapter/base/template.go ValidatePVCNameTemplate: the trimmed output must be a
    DNS-1123 label). Sample values pass `{{.VmName}}-disk`; a VM named 'DB 01' does not.
    Templates that only substitute fields are rendered here; one with functions or
    pipelines (sprig's trunc, lower...) is checked with sample values (names_and_templates)."""
    for plan in ctx.site.plans:
        for p in ctx.vms(plan):
            template = p.options.get("pvcNameTemplate")
            if not template or _FIELD_ONLY.sub("", template).count("{{"):
                continue
            for i, disk in enumerate(p.vm.disks or (None,)):
                values = {"VmName": p.vm.name, "TargetVmName": p.target_name, "PlanName": plan.object_name,
                          "DiskIndex": str(i), "VmId": p.vm.id, "RootDiskIndex": "0",
                          "Shared": "true" if disk is not None and disk.shared else "false",
                          "FileName": (disk.file.rsplit("/", 1)[-1] if disk is not None else "")}
                if any(name not in values for name in _FIELD_ONLY.findall(template)):
                    break                   # a field of another provider type: the sample check says so
                result = _FIELD_ONLY.sub(lambda m: values[m.group(1)], template).strip()
                if not names.is_label(result):
                    yield vm_diag("MTV025", p, plan, f"pvcNameTemplate {template!r} gives {result!r} for its "
                                  f"disk {i}, not a DNS-1123 label (Forklift refuses the plan)", where=p.where,
                                  help="build the name from .TargetVmName (always DNS-safe) rather than .VmName")
                    break
