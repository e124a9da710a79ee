"""YAML in (with line marks) and YAML out (canonical, safe for YAML 1.1 readers).

Reading: site specs are read with YAML 1.2 core semantics for booleans (only
true/false) and without timestamps, so `targetPowerState: on` stays the string
"on" and a cutover time stays the text the user wrote. Every mapping and list
remembers where its keys and items are, so any later stage can point at a line.

Writing: kubectl, Argo CD and Flux read YAML through go-yaml v2 (YAML 1.1),
where `on`, `off`, `yes`, `y`, `n` are booleans. Every string that any YAML 1.1
or 1.2 reader could take for something else is single-quoted.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import yaml

from .errors import Location, MtvgenError


class Marked(dict):
    """A mapping that remembers the position of each key and value."""

    file: str = ""
    start: tuple[int, int] = (0, 0)
    key_marks: dict
    value_marks: dict


class MarkedList(list):
    file: str = ""
    start: tuple[int, int] = (0, 0)
    item_marks: list


class _Loader(yaml.SafeLoader):
    pass


# Start from a resolver table without YAML 1.1 booleans and timestamps.
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _pos(mark) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Marked:
    result = Marked()
    result.file = loader.name
    result.start = _pos(node.start_mark)
    result.key_marks, result.value_marks = {}, {}
    yield result
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            raise MtvgenError(
                f"duplicate key '{key}'",
                where=Location(loader.name, *_pos(key_node.start_mark)),
                fix=f"keep one '{key}' (the first is at line {result.key_marks[key][0]})",
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_marks[key] = _pos(key_node.start_mark)
        result.value_marks[key] = _pos(value_node.start_mark)


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> MarkedList:
    result = MarkedList()
    result.file = loader.name
    result.start = _pos(node.start_mark)
    result.item_marks = [_pos(n.start_mark) for n in node.value]
    yield result
    result.extend(loader.construct_object(n, deep=True) for n in node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


# Bounds on what a YAML file may make us build (README "Limits"): nesting beyond a
# few dozen levels is never a site spec, and a few kilobytes of aliases can expand
# into gigabytes ("billion laughs").
MAX_DEPTH = 50
MAX_NODES = 1_000_000     # values after aliases are expanded


def decode(data: bytes, file: str) -> str:
    """UTF-8 text, or an error at the line and column of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = data[: exc.start]
        line = head.count(b"\n") + 1
        col = len(head) - (head.rfind(b"\n") + 1) + 1
        raise MtvgenError(f"not UTF-8 text (byte 0x{data[exc.start]:02x})", where=Location(file, line, col),
                          fix="save the file as UTF-8") from None


def _bounds(loader_class, text: str, file: str, max_nodes: int) -> None:
    """Walk the parser's events (iteratively: no recursion) and refuse deep nesting and
    alias expansion past the bounds before anything is constructed. libyaml's parser
    walks them when it can (half of reading a spec was this walk in Python); a text it
    refuses is walked again by the loader's own parser, which reports YAML errors in
    the words of the loader that reads it next."""
    if loader_class is not _FastLoader:
        try:
            return _bounds(_FastLoader, text, file, max_nodes)
        except yaml.YAMLError:
            pass
    stack: list[list] = []        # [anchor, size] per open collection
    sizes: dict[str, int] = {}
    total = 0
    for ev in yaml.parse(text, Loader=loader_class):
        if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(stack) >= MAX_DEPTH:
                raise MtvgenError(f"nests deeper than {MAX_DEPTH} levels", where=Location(file, *_pos(ev.start_mark)),
                                  fix="a site spec is a few levels deep; check the indentation")
            stack.append([ev.anchor, 1])
            continue
        if isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, size = stack.pop()
        elif isinstance(ev, yaml.ScalarEvent):
            anchor, size = ev.anchor, 1
        elif isinstance(ev, yaml.AliasEvent):
            anchor, size = None, sizes.get(ev.anchor, 1)
        else:
            continue
        if anchor:
            sizes[anchor] = size
        total += size if isinstance(ev, yaml.AliasEvent) else 1
        if stack:
            stack[-1][1] += size
        if total > max_nodes:
            raise MtvgenError(f"expands to more than {max_nodes:,} values (YAML aliases)",
                              where=Location(file, *_pos(ev.start_mark)), fix="write the values out, without aliases")


def _load(loader_class, text: str, file: str, max_nodes: int, scan: bool = True) -> Any:
    loader = None
    try:
        if scan:
            _bounds(loader_class, text, file, max_nodes)
        loader = loader_class(text)
        loader.name = file
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, *_pos(mark)) if mark else Location(file)
        raise MtvgenError(f"not valid YAML: {exc.problem or exc.context}", where=where,
                          fix="fix the YAML syntax at this position") from exc
    except yaml.reader.ReaderError as exc:   # NUL and other characters YAML does not allow
        head = text[: exc.position]
        where = Location(file, head.count("\n") + 1, len(head) - (head.rfind("\n") + 1) + 1)
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        raise MtvgenError(f"character {char!r} is not allowed in YAML", where=where,
                          fix="remove it (control characters cannot appear in a YAML file)") from exc
    except yaml.YAMLError as exc:
        raise MtvgenError(f"not valid YAML: {exc}", where=Location(file), fix="fix the YAML syntax") from exc
    finally:
        if loader is not None:
            loader.dispose()


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """libyaml's parser, the same YAML 1.2 booleans, no marks: for inventory snapshots,
    where nothing points back at a line and the pure-Python loader took a minute at 10k VMs."""


_FastLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers


def load_fast(text: str, file: str, max_nodes: int = MAX_NODES) -> Any:
    """Parse YAML text into plain dicts and lists, bounded like load_marked."""
    # libyaml itself refuses nesting past 1,000 levels, and without an anchor (`&`)
    # there can be no alias to expand: the event scan is needed only then.
    return _load(_FastLoader, text, file, max_nodes, scan="&" in text)


def load_marked(text: str, file: str, max_nodes: int = MAX_NODES) -> Any:
    """Parse YAML text; mappings and lists carry their positions."""
    return _load(_Loader, text, file, max_nodes)


def locate(root: Any, path, file: str = "") -> Location:
    """The position of the value at `path` (keys and indexes), or of its deepest
    existing ancestor. Works on the Marked structures returned by load_marked."""
    node, best = root, Location(getattr(root, "file", file) or file, *getattr(root, "start", (0, 0)))
    for step in path:
        if isinstance(node, Marked) and step in node:
            best = Location(node.file, *node.value_marks[step])
            node = node[step]
        elif isinstance(node, MarkedList) and isinstance(step, int) and 0 <= step < len(node):
            best = Location(node.file, *node.item_marks[step])
            node = node[step]
        else:
            break
    return best


def key_location(mapping: Any, key: str) -> Location:
    if isinstance(mapping, Marked) and key in mapping:
        return Location(mapping.file, *mapping.key_marks[key])
    return Location(getattr(mapping, "file", ""), *getattr(mapping, "start", (0, 0)))


def plain(data: Any) -> Any:
    """Drop the marks: plain dicts and lists (for hashing and JSON)."""
    if isinstance(data, dict):
        return {k: plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [plain(v) for v in data]
    return data


# ---------------------------------------------------------------- writing

# go-yaml v2 (YAML 1.1) booleans and nulls, plus anything number-like in 1.1 or 1.2
# (sexagesimal 1:20, 0o17, 0x1F, 1_000, .inf, 1e3), plus ISO dates.
_AMBIGUOUS = re.compile(
    r"""^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
    |~|null|Null|NULL|
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
# single inner spaces; minus the words and numbers _AMBIGUOUS quotes.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*(?: [A-Za-z0-9_./-]+)*\Z")
_MAPS, _SEQS = (dict, Marked), (list, MarkedList)


@functools.lru_cache(maxsize=1 << 16)
def _string(value: str) -> str:
    if _PLAIN.match(value) and not _AMBIGUOUS.match(value):
        return value
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


def _mapping(data: dict, indent: str, out: list[str]) -> None:
    for key, value in data.items():
        # libyaml writes keys over 128 characters as `? key`
        if type(key) is not str or len(key) > 100 or _string(key) != key:
            raise _Indirect
        kind = type(value)
        if kind in _MAPS and value:
            out.append(f"{indent}{key}:\n")
            _mapping(value, indent + "  ", out)
        elif kind in _SEQS and value:
            out.append(f"{indent}{key}:\n")
            _sequence(value, indent, out)     # block lists under a key are not indented
        elif kind in _MAPS:
            out.append(f"{indent}{key}: {{}}\n")
        elif kind in _SEQS:
            out.append(f"{indent}{key}: []\n")
        else:
            out.append(f"{indent}{key}: {_scalar(value)}\n")


def _sequence(items: list, indent: str, out: list[str]) -> None:
    inner = indent + "  "
    for value in items:
        kind = type(value)
        if (kind in _MAPS or kind in _SEQS) and value:
            # the item's first line goes on the dash: "- key: v" or "- - v"
            start = len(out)
            (_mapping if kind in _MAPS else _sequence)(value, inner, out)
            out[start] = indent + "- " + out[start][len(inner):]
        elif kind in _MAPS:
            out.append(f"{indent}- {{}}\n")
        elif kind in _SEQS:
            out.append(f"{indent}- []\n")
        else:
            out.append(f"{indent}- {_scalar(value)}\n")


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


def load_plain(text: str) -> Any:
    """Read our own output back (plain safe_load: 1.1 semantics, quoted scalars exact)."""
    return yaml.load(text, Loader=yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader)
