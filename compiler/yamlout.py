"""YAML out: canonical, and safe for YAML 1.1 readers.

kubectl, Argo CD and Flux read YAML through go-yaml v2 (YAML 1.1), where `on`,
`off`, `yes`, `y`, `n` are booleans. Every string that any YAML 1.1 or 1.2
reader could take for something else is single-quoted.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import yaml

from .yamlio import Marked, MarkedList

# go-yaml v2 (YAML 1.1) booleans and nulls, plus anything number-like in 1.1 or 1.2
# (sexagesimal 1:20, 0o17, 0x1F, 1_000, .inf, 1e3), plus ISO dates.
_WORDS = r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL"
_AMBIGUOUS = re.compile(
    r"""^(?:""" + _WORDS + r"""
    |~|
    [-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?0[xX][0-9a-fA-F_]+|[-+]?0[oO]?[0-7_]+|[-+]?0[bB][01_]+
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)
    |[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*
    )$""",
    re.X,
)


# libyaml's emitter when present: same output rules, several times faster on big plans.
class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    def ignore_aliases(self, data):  # never emit &anchors / *aliases
        return True


def _represent_str(dumper: _Dumper, value: str):
    if _AMBIGUOUS.match(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    if "\n" in value:
        # literal block when the emitter can keep it exact, else it falls back to quotes
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Marked, _Dumper.represent_dict)
_Dumper.add_representer(MarkedList, _Dumper.represent_list)


def dump(data: Any) -> str:
    """Canonical YAML: key order as given (templates and writers fix it), block style,
    no line folding, UTF-8 text, '\\n' line endings. Byte for byte what libyaml's
    emitter writes; most documents take the direct path below."""
    text = _direct(data)
    return text if text is not None else _libyaml(data)


def _libyaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1 << 30)


# The direct writer. PyYAML's representer builds a node per value and costs more than
# everything else in a 10k-VM build (benchmarks/build_scale.py). Documents are mappings,
# lists and one-line scalars, whose block layout is fixed; only how a string is
# written takes judgement, and that is libyaml's own answer, asked once per distinct
# string. A value it writes over several lines (a playbook) or of a type it would
# refuse sends the whole document to libyaml. tests/test_yamlio.py holds the two
# writers equal on hostile and generated documents.

class _Indirect(Exception):
    """The document needs libyaml's emitter."""


# Strings libyaml writes as they are: a letter first, no indicator, no ': ' or ' #',
# single inner spaces; minus the words _AMBIGUOUS quotes (its numbers and dates never
# start with a letter). One match per string: most values (VM names, ids) are seen once,
# so a cache of them cost more than it saved.
_PLAIN = re.compile(r"(?!(?:" + _WORDS + r")\Z)[A-Za-z_][A-Za-z0-9_./-]*(?: [A-Za-z0-9_./-]+)*\Z")
_MAPS, _SEQS = (dict, Marked), (list, MarkedList)


def _string(value: str) -> str:
    return value if _PLAIN.match(value) else _quoted(value)


@functools.lru_cache(maxsize=1 << 16)
def _quoted(value: str) -> str:
    line = _libyaml({"k": value})          # "k: <value as libyaml writes it>\n"
    # several lines (libyaml also breaks at NEL, LS and PS) are indented by context
    if len(line.splitlines()) != 1:
        raise _Indirect
    return line[3:-1]


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    raise _Indirect                         # floats, dates, tuples...: libyaml decides


def _inline(value: Any) -> str:
    """What follows `key: ` or `- ` on the same line: a scalar or an empty collection."""
    kind = type(value)
    return "{}" if kind in _MAPS else "[]" if kind in _SEQS else _scalar(value)


_PLAIN_KEYS: set[str] = set()      # keys known to be written as they are: a few dozen, met over and over


def _mapping(data: dict, indent: str, out: list[str]) -> None:
    for key, value in data.items():
        if key not in _PLAIN_KEYS:
            # libyaml writes keys over 128 characters as `? key`
            if type(key) is not str or len(key) > 100 or _string(key) != key:
                raise _Indirect
            _PLAIN_KEYS.add(key)
        kind = type(value)
        if kind in _MAPS and value:
            out.append(f"{indent}{key}:\n")
            _mapping(value, indent + "  ", out)
        elif kind in _SEQS and value:
            out.append(f"{indent}{key}:\n")
            _sequence(value, indent, out)     # block lists under a key are not indented
        else:
            out.append(f"{indent}{key}: {_inline(value)}\n")


def _sequence(items: list, indent: str, out: list[str]) -> None:
    inner = indent + "  "
    for value in items:
        kind = type(value)
        if (kind in _MAPS or kind in _SEQS) and value:
            # the item's first line goes on the dash: "- key: v" or "- - v"
            start = len(out)
            (_mapping if kind in _MAPS else _sequence)(value, inner, out)
            out[start] = indent + "- " + out[start][len(inner):]
        else:
            out.append(f"{indent}- {_inline(value)}\n")


def _direct(data: Any) -> str | None:
    if type(data) not in _MAPS or not data:
        return None
    out: list[str] = []
    try:
        _mapping(data, "", out)
    except _Indirect:
        return None
    return "".join(out)


def json_scalar(value) -> str:
    """A value as a JSON literal, which is also a valid, exact YAML flow scalar:
    the one way values enter templates and hand-written YAML."""
    return json.dumps(value, ensure_ascii=False)
