"""The Forklift release a site targets (site.yaml `forkliftVersion:`), and what it
changes: which spec fields exist, how a warm plan is written, whether an edit of
a running plan cancels its run.

In: the version text (or the release the site's pulled CRDs name). Out: a
Profile that render, validate and the lifecycle checks consult. The facts come
from one generated table (forklift_fields.py, scripts/forklift-fields), read
from kubev2v/forklift's release tags.

Why it matters: an API server prunes a field its CRD does not know, or refuses
it, depending on the client's field validation. Pruned, `type: warm` runs cold
on 2.9 (which reads `warm: true`), and `targetPowerState` is silently ignored.
So a field the target release lacks is an error at the spec line behind it,
never a silent difference.
"""

from __future__ import annotations

import re

import msgspec

from .forklift_fields import LACKING, RELEASES

MAIN = "main"     # the commit ../shared/crds and the project's schemas come from (d42511b)
_VERSION = re.compile(r"v?([0-9]+)\.([0-9]+)(?:\.([0-9]+))?")

# Before 2.12 the plan controller matched the running migration's snapshot of the Plan,
# both Providers and both maps by UID *and generation*: any spec edit of one of them
# canceled the run (reason Modified). From 2.12 on by UID only. kubev2v/forklift
# pkg/apis/forklift/v1beta1/plan/snapshot.go SnapshotRef.Match, v2.11.7 vs 2176066d2.
_CANCELS_BEFORE = (2, 12)


class Profile(msgspec.Struct, frozen=True):
    release: str = MAIN          # "2.11.3", or "main"
    asked: str = ""              # what the site wrote, when it differs ("2.11" -> 2.11.0)

    def has(self, path: str) -> bool:
        """Does this release have the field? `Plan.spec.vms[].targetPowerState`;
        provider types as `Provider.spec.type=ec2`."""
        return self.release not in _lacking(path)

    def since(self, path: str) -> str:
        """The first release after this one that has the field ("" when none of those
        mtvgen knows lack it, or none has it)."""
        later = RELEASES[RELEASES.index(self.release) + 1:]
        return next((r for r in later if r not in _lacking(path)), "")

    @property
    def cancels_on_edit(self) -> bool:
        return self.release != MAIN and _numbers(self.release)[:2] < _CANCELS_BEFORE

    @property
    def shown(self) -> str:
        if self.release == MAIN:
            return "Forklift main (d42511b)"
        # "2.11" means its first release: say so, a later patch may have what that one lacks
        return f"Forklift {self.release}" + (f" (taken for {self.asked})" if self.asked else "")

    def missing(self, kind: str, body: dict) -> list[tuple[list, str]]:
        """Fields of a generated object this release does not have: (path in the
        object, field name as the table spells it)."""
        out = []
        spec = body.get("spec")
        if isinstance(spec, dict):
            _walk(self, spec, ["spec"], f"{kind}.spec", out)
            if kind == "Provider" and not self.has(f"Provider.spec.type={spec.get('type')}"):
                out.append((["spec", "type"], f"Provider.spec.type={spec.get('type')}"))
        return out


def _walk(profile: Profile, node, path: list, name: str, out: list) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            field = f"{name}.{key}"
            if not profile.has(field):
                out.append((path + [key], field))
            else:
                _walk(profile, value, path + [key], field, out)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _walk(profile, item, path + [i], name + "[]", out)


def _lacking(path: str) -> tuple[str, ...]:
    return LACKING.get(path, ())


def _numbers(release: str) -> tuple[int, ...]:
    return tuple(int(n) for n in release.split("."))


def known() -> str:
    """The releases mtvgen has facts for, as a message lists them."""
    lines: dict[str, list[str]] = {}
    for r in RELEASES:
        lines.setdefault(r.rsplit(".", 1)[0] if r != MAIN else MAIN, []).append(r)
    return ", ".join(f"{v[0]}..{v[-1]}" if len(v) > 1 else v[0] for v in lines.values())


def resolve(text) -> Profile | None:
    """`2.11.3`, `v2.11.3`, `2.11` (its first release mtvgen knows: the fewest fields,
    so a field a later patch added is reported, never assumed) or `main`.
    None when mtvgen has no facts for it."""
    text = str(text).strip()
    if text == MAIN:
        return Profile()
    m = _VERSION.fullmatch(text)
    if m is None:
        return None
    major, minor, patch = m.groups()
    if patch is not None:
        release = f"{int(major)}.{int(minor)}.{int(patch)}"
        return Profile(release) if release in RELEASES else None
    first = next((r for r in RELEASES if r.startswith(f"{int(major)}.{int(minor)}.")), None)
    return Profile(first, asked=text) if first else None
