"""YAML in: with line marks (specs), fast and plain (snapshots), bounded always.
(YAML out is yamlout.py.)

Site specs are read with YAML 1.2 core semantics for booleans (only true/false)
and without timestamps, so `targetPowerState: on` stays the string "on" and a
cutover time stays the text the user wrote. Every mapping and list remembers
where its keys and items are, so any later stage can point at a line.
"""

from __future__ import annotations

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


def shown(path, root=None) -> str:
    """A path as messages name it: relative to `root` (default: the working directory) when
    it is below it, else as given."""
    from pathlib import Path
    try:
        return str(Path(path).resolve().relative_to(Path(root or Path.cwd()).resolve()))
    except ValueError:
        return str(path)


def load_file(path, restore: str) -> tuple[Any, str]:
    """A repository file the tool keeps (policy, ledger, measured runs), read with line
    marks: (its document, how messages name it). An unreadable file is an error at it,
    with `restore`, how to get it back."""
    name = shown(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MtvgenError(f"cannot read {name}: {exc.strerror or exc}", where=Location(name), fix=restore) from None
    return load_marked(decode(data, name), name), name


def load_records(path, key: str, kind, what: str, restore: str) -> tuple[list, str]:
    """A file the tool keeps as one list under `key` (the ledger, measured runs), each item
    converted to `kind`: (the items, how messages name the file). A damaged item is an
    error at its line, saying it is not `what`."""
    import msgspec
    raw, name = load_file(path, restore)
    doc = plain(raw) or {}
    items = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise MtvgenError(f"{name} has no `{key}:` list", where=Location(name, 1), fix=restore)
    out = []
    for i, item in enumerate(items):
        try:
            out.append(msgspec.convert(item, kind))
        except msgspec.ValidationError as exc:
            raise MtvgenError(f"{name}: entry {i + 1} is not {what} ({exc})", where=locate(raw, [key, i], name),
                              fix=restore) from None
    return out, name


def decode(data: bytes, file: str, fix: str = "save the file as UTF-8") -> str:
    """UTF-8 text, or an error at the line and column of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = data[: exc.start]
        line = head.count(b"\n") + 1
        col = len(head) - (head.rfind(b"\n") + 1) + 1
        raise MtvgenError(f"not UTF-8 text (byte 0x{data[exc.start]:02x})", where=Location(file, line, col),
                          fix=fix) from None


def _too_deep(file: str, mark) -> MtvgenError:
    return MtvgenError(f"nests deeper than {MAX_DEPTH} levels", where=Location(file, *_pos(mark)),
                       fix="specs and inventories are a few levels deep; check the indentation")


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
                raise _too_deep(file, ev.start_mark)
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


def _load(loader_class, text: str, file: str, max_nodes: int) -> Any:
    loader = None
    try:
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
    # Without an anchor (`&`) there is no alias to expand, so the event reader checks
    # only the depth; the loader's path scans for both.
    if "&" not in text:
        try:
            return _from_events(text, file)
        except (_Composed, yaml.YAMLError):
            pass        # the loader below gives the same data, or the error in its words
    return _load(_FastLoader, text, file, max_nodes)


# Building the data straight from libyaml's events. PyYAML's loader first composes
# a node (with two marks) per value, then constructs the data in Python: 2.2 s of
# a 10k-VM YAML snapshot's 2.9 s lock (benchmarks/lock_scale.py). Plain documents
# (no anchors, tags, merge keys, complex keys; one document) are built here with the
# loader's own resolver and constructors, so every value is what the loader gives;
# anything else is left to the loader. tests/test_yamlio.py holds the two equal.

class _Composed(Exception):
    """The text needs the full loader."""


_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_SCALARS = {
    "tag:yaml.org,2002:str": None,
    "tag:yaml.org,2002:null": lambda node: None,
    "tag:yaml.org,2002:bool": lambda node: _CONSTRUCTOR.construct_yaml_bool(node),
    "tag:yaml.org,2002:int": lambda node: _CONSTRUCTOR.construct_yaml_int(node),
    "tag:yaml.org,2002:float": lambda node: _CONSTRUCTOR.construct_yaml_float(node),
}


_WILDCARD = _FastLoader.yaml_implicit_resolvers.get(None, [])
_RESOLVERS = {first: rules + _WILDCARD for first, rules in _FastLoader.yaml_implicit_resolvers.items()
              if first is not None}


def _plain(value: str) -> Any:
    """A plain scalar as the loader resolves and constructs it."""
    for tag, regexp in _RESOLVERS.get(value[:1], _WILDCARD):
        if regexp.match(value):
            if tag not in _SCALARS:
                raise _Composed         # merge keys, `=`: the loader's business
            make = _SCALARS[tag]
            return value if make is None else make(yaml.ScalarNode(tag, value))
    return value


def _from_events(text: str, file: str = "") -> Any:
    """The document's data, or _Composed. `stack` holds [collection, key] for every open
    collection; a mapping's key is `no_key` until its key scalar has been read. Nesting
    is bounded as _bounds bounds it."""
    root, stack, documents = None, [], 0
    no_key = stack                  # any object that can never be a key
    # plain scalars repeat (keys, states, ids of shared objects): each distinct text is
    # resolved once (a 10k-VM snapshot: 380,000 plain scalars, 0.49 s resolving them all)
    resolved: dict[str, Any] = {}
    for event in yaml.parse(text, Loader=_FastLoader):
        kind = type(event)
        if kind is yaml.ScalarEvent:
            if event.anchor or event.tag not in (None, "!"):
                raise _Composed
            if event.implicit[0] and event.tag is None:
                value = resolved.get(event.value, resolved)
                if value is resolved:
                    value = resolved[event.value] = _plain(event.value)
            else:
                value = event.value
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.anchor or event.tag not in (None, "!"):
                raise _Composed
            value = {} if kind is yaml.MappingStartEvent else []
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            stack.pop()
            continue
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Composed         # the loader says "expected a single document"
            continue
        elif kind is yaml.AliasEvent:
            raise _Composed
        else:
            continue
        if not stack:
            root = value
        else:
            top = stack[-1]
            if type(top[0]) is list:
                top[0].append(value)
            elif top[1] is no_key:
                if type(value) in (dict, list):
                    raise _Composed     # a complex key
                top[1] = value
            else:
                top[0][top[1]] = value
                top[1] = no_key
        if type(value) in (dict, list):
            if len(stack) >= MAX_DEPTH:
                raise _too_deep(file, event.start_mark)
            stack.append([value, no_key])
    return root


class _CMarkedLoader(_FastLoader):
    """libyaml's parser with the marked constructors: the same nodes and marks as _Loader,
    parsed in C (a 100-plan spec: 21 ms -> 4 ms; PyYAML's pure-Python scanner was 90%)."""


_CMarkedLoader.yaml_constructors = _Loader.yaml_constructors


def load_marked(text: str, file: str, max_nodes: int = MAX_NODES) -> Any:
    """Parse YAML text; mappings and lists carry their positions. A text libyaml refuses
    is parsed again by PyYAML's own parser, whose error (words and position) the user
    sees, as before; tests/test_yamlio.py holds the two parsers' data and marks equal."""
    try:
        return _load(_CMarkedLoader, text, file, max_nodes)
    except MtvgenError as exc:
        if not isinstance(exc.__cause__, yaml.YAMLError):
            raise       # duplicate keys, nesting, aliases: the same with either parser
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


def position(text: str, file: str, path) -> Location:
    """Where the value at `path` (keys and indexes) starts in a text read without marks
    (a snapshot, through the fast readers): libyaml's events walked again, on the error
    path only. JSON is read too, being YAML. Location(file) when the path is not there
    or the text is not plain YAML."""
    want = list(path)
    frames: list[list] = []     # open collections: [is a mapping, current key or index, next is a key]
    try:
        for event in yaml.parse(text, Loader=_FastLoader):
            kind = type(event)
            if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                frames.pop()
                continue
            starts = kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent
            if not (starts or kind is yaml.ScalarEvent or kind is yaml.AliasEvent):
                continue
            if frames:
                top = frames[-1]
                if top[0] and top[2]:           # a key
                    if starts:
                        break                   # a complex key: no plain path leads past it
                    top[1], top[2] = getattr(event, "value", None), False     # an alias key has none
                    continue
                if top[0]:
                    top[2] = True
                else:
                    top[1] += 1
            if len(frames) == len(want) and [f[1] for f in frames] == want:
                return Location(file, *_pos(event.start_mark))
            if starts:
                frames.append([kind is yaml.MappingStartEvent, -1, True])
    except yaml.YAMLError:
        pass
    return Location(file)


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


def load_plain(text: str) -> Any:
    """Read our own output back (plain safe_load: 1.1 semantics, quoted scalars exact)."""
    return yaml.load(text, Loader=yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader)
