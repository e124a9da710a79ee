"""What mtvgen writes, applied to a real kube-apiserver with the upstream CRDs, unit by
unit in the documented order, by server-side apply with strict field validation (as
Argo CD and Flux apply): every object is accepted, nothing of it is pruned or
rewritten by the server, and applying it again changes nothing (no endless
OutOfSync from mtvgen's own fields)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

SITES = sorted(p.name for p in (ROOT / "out").iterdir() if p.is_dir())
MANAGER = "argocd-controller"          # the field manager Argo CD's server-side apply uses


def units(site_out: Path) -> list[Path]:
    """The site's sync units in the order README "Output and GitOps" gives."""
    plans = sorted(p for p in (site_out / "plans").iterdir()) if (site_out / "plans").exists() else []
    order = [site_out / "shared", site_out / "hosts"]
    for p in plans:
        order += [p / "plan", p / "run"]
    order += [site_out / "argocd", site_out / "flux", site_out / "bootstrap"]
    return [u for u in order if (u / "kustomization.yaml").exists()]


def documents(cp, unit: Path) -> list[dict]:
    text = cp.kubectl("kustomize", str(unit)).stdout
    return [d for d in yaml.safe_load_all(text) if d]


def encrypted(doc: dict) -> bool:
    """A SOPS file is for Flux's decryption to read, not for an API server."""
    return "sops" in doc


def apply(cp, docs: list[dict], *extra: str) -> list[dict]:
    stream = "\n---\n".join(json.dumps(d) for d in docs)
    r = cp.kubectl("apply", "--server-side", "--field-manager", MANAGER, "--validate=strict", *extra,
                   "-o", "json", "-f", "-", input=stream, check=False)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    return out["items"] if out.get("kind") == "List" else [out]


def as_stored(doc: dict) -> dict:
    """The API server keeps a Secret's stringData as base64 `data`; Argo CD and Flux
    compare a Secret that way too (gitops-engine normalizes stringData, fluxcd/pkg ssa
    converts it before its dry run), so that is not drift."""
    if doc.get("kind") != "Secret" or "stringData" not in doc:
        return doc
    import base64
    out = {k: v for k, v in doc.items() if k != "stringData"}
    out["data"] = {**doc.get("data", {}), **{k: base64.b64encode(v.encode()).decode()
                                            for k, v in doc["stringData"].items()}}
    return out


def differences(live, want, path="") -> list[str]:
    """Where `live` does not hold `want` (every emitted field, with its value)."""
    if isinstance(want, dict):
        if not isinstance(live, dict):
            return [f"{path}: {type(live).__name__} on the server"]
        return [d for k, v in want.items() for d in
                (differences(live[k], v, f"{path}.{k}") if k in live else [f"{path}.{k}: pruned by the server"])]
    if isinstance(want, list):
        if not isinstance(live, list) or len(live) != len(want):
            return [f"{path}: {live!r} on the server, {want!r} written"]
        return [d for i, (a, b) in enumerate(zip(live, want)) for d in differences(a, b, f"{path}[{i}]")]
    return [] if live == want else [f"{path}: {live!r} on the server, {want!r} written"]


def namespaces(docs: list[dict]) -> set[str]:
    found = {d["metadata"].get("namespace") for d in docs} | \
        {d.get("spec", {}).get("targetNamespace") for d in docs if d.get("kind") == "Plan"} | \
        {(d.get("spec", {}).get("destination") or {}).get("namespace") for d in docs if d.get("kind") == "Application"}
    return {n for n in found if n}


@pytest.mark.parametrize("site", SITES)
def test_every_unit_applies_as_written_and_again_changes_nothing(controlplane, site):
    cp = controlplane
    site_units = [(u, documents(cp, u)) for u in units(ROOT / "out" / site)]
    assert site_units, f"out/{site} has no units"
    for ns in sorted(set().union(*(namespaces(docs) for _, docs in site_units))):
        cp.kubectl("create", "namespace", ns, check=False)      # exists already: another site made it
    applied = 0
    for unit, docs in site_units:
        plain = [d for d in docs if not encrypted(d)]
        if not plain:
            continue
        live = apply(cp, plain)
        by_key = {(o["kind"], o["metadata"]["name"]): o for o in live}
        for want in plain:
            got = by_key[(want["kind"], want["metadata"]["name"])]
            assert differences(got, as_stored(want)) == [], f"{unit.relative_to(ROOT)}: {want['kind']} {want['metadata']['name']}"
        # what Argo CD's server-side diff and Flux's dry-run do: apply as a dry run and compare
        stream = "\n---\n".join(json.dumps(d) for d in plain)
        r = cp.kubectl("diff", "--server-side", "--field-manager", MANAGER, "-f", "-", input=stream, check=False)
        assert (r.returncode, r.stdout) == (0, ""), f"{unit.relative_to(ROOT)} would sync again:\n{r.stdout}{r.stderr}"
        applied += len(plain)
    assert applied >= 3


def test_only_the_sops_file_is_left_to_a_decryptor():
    """The one document not applied as is: rhv-lab's SOPS-encrypted Secret (Flux decrypts it)."""
    found = []
    for site in SITES:
        for unit in units(ROOT / "out" / site):
            for f in sorted(unit.glob("*.yaml")):
                for d in yaml.safe_load_all(f.read_text()):
                    if d and encrypted(d):
                        found.append((site, d["kind"]))
    assert found == [("rhv-lab", "Secret")]
