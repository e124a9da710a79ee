"""The fast paths of YAML in and out against PyYAML's own: the direct writer
(yamlout._direct) against libyaml's emitter (the build promises byte-identical
output), and the event reader (yamlio._from_events) against the loader."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from compiler import yamlio, yamlout
from test_quoting import HOSTILE

AWKWARD = HOSTILE + [
    "", " ", "a: b", "a #b", "a#b", "a:b", "a:", "-a", "--- x", "...", "? x", ": x", "a  b", "a\tb", "\x85",
    "\u2028", "\ufeff", "x" * 200, "Yes", "ON", "Null", "1:20", "0.5", "-1", "1.", "1e+3", "2026-01-01T00:00:00Z",
    "app.kubernetes.io/name", "mtvgen.io/plan", "vm-1", "App Server 00001", "00:50:56:00:00:01", "a'b", "10Gi",
    "x\n", "\nx", "a\n\nb", "/DC/vm/f000", "_x", "a/b c", "a  ", "=x", "<<x", "%x y",
]

# mostly one-line strings and plain keys, so most documents exercise the direct path
one_line = st.text(st.characters(blacklist_categories=["Cc", "Cs", "Zl", "Zp"]), max_size=12)
strings = st.one_of(st.sampled_from(AWKWARD), one_line, st.text(max_size=6),
                    st.from_regex(r"[A-Za-z_][A-Za-z0-9_./ :#-]{0,20}", fullmatch=True))
scalars = st.one_of(strings, st.booleans(), st.integers(-2**70, 2**70), st.none())
plain_keys = st.from_regex(r"[A-Za-z][A-Za-z0-9_./-]{0,15}", fullmatch=True)
odd_keys = st.one_of(st.sampled_from(["x" * 101, "x" * 130, "on", "1"]), strings)


def documents(keys):
    return st.dictionaries(keys, st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
        max_leaves=30), min_size=1, max_size=5)


@settings(max_examples=400, deadline=None)
@given(documents(plain_keys))
def test_direct_writer_is_libyaml_byte_for_byte(doc):
    assert _outcome(yamlout.dump, doc) == _outcome(yamlout._libyaml, doc)


@settings(max_examples=200, deadline=None)
@given(documents(st.one_of(plain_keys, odd_keys)))
def test_odd_keys_too(doc):
    assert _outcome(yamlout.dump, doc) == _outcome(yamlout._libyaml, doc)


def _outcome(write, doc):
    try:
        return write(doc)
    except Exception as exc:          # e.g. a lone surrogate: both must refuse it alike
        return type(exc)


def test_direct_writer_takes_the_common_documents():
    """The fast path is not dead code: an ordinary Plan body goes through it."""
    doc = {"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Plan",
           "metadata": {"name": "wave1", "labels": {"app.kubernetes.io/managed-by": "mtvgen"}},
           "spec": {"warm": False, "vms": [{"id": "vm-1", "name": "App 1"}, {"id": "vm-2", "name": "on"}],
                    "map": {"network": {}}, "hooks": []}}
    text = yamlout._direct(doc)
    assert text == yamlout._libyaml(doc)
    assert "  - id: vm-1\n    name: App 1\n  - id: vm-2\n    name: 'on'\n" in text


def test_many_line_strings_go_to_libyaml():
    doc = {"data": {"playbook": "- hosts: all\n  tasks: []\n"}}
    assert yamlout._direct(doc) is None
    assert yamlout.dump(doc) == yamlout._libyaml(doc)


# ------------------------------------------------------------------ reading from events

def _loader(text):
    return _outcome(lambda t: yamlio._load(yamlio._FastLoader, t, "x", yamlio.MAX_NODES), text)


def _events(text):
    """The event reader's data, or "composed" when it hands the text to the loader
    (load_fast does so on _Composed and on a YAML error, which the loader words)."""
    try:
        return yamlio._from_events(text)
    except (yamlio._Composed, yaml.YAMLError):
        return "composed"


SCALAR_TEXTS = AWKWARD + ["0o17", "0x1F", "1_000", "1:20", "-.inf", ".NaN", "+12", "0777", "1e3", "true", "True",
                          "yes", "on", "~", "null", "Null", "", "2026-01-01", "<<", "=", "!!str 5", "!tag x", "'q'",
                          '"d"', "[1, 2]", "{a: 1}", "&a x", "*a", "- x", "? x"]


@settings(max_examples=400, deadline=None)
@given(documents(st.one_of(plain_keys, odd_keys)), st.sampled_from([False, None, True]))
def test_reading_from_events_is_the_loader(doc, flow):
    """Whatever the text, the event reader gives the loader's data or hands the text over."""
    text = yaml.dump(doc, Dumper=yaml.CSafeDumper, default_flow_style=flow, allow_unicode=True)
    result = _events(text)
    if result != "composed":
        assert result == _loader(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SCALAR_TEXTS), st.sampled_from(SCALAR_TEXTS)), min_size=1, max_size=6))
def test_hand_written_yaml_reads_alike(pairs):
    """Plain scalars written by hand (not quoted by a dumper) resolve as the loader resolves them."""
    text = "".join(f"k{i}: {v}\nl{i}:\n  - {w}\n" for i, (v, w) in enumerate(pairs))
    result = _events(text)
    if result != "composed":
        assert result == _loader(text)


def test_anchors_tags_and_merge_keys_go_to_the_loader():
    for text in ("a: &x 1\nb: *x\n", "a: !!str 5\n", "a: {<<: {b: 1}}\n", "a: 1\n---\nb: 2\n", "? [1]\n: x\n"):
        assert _events(text) == "composed", text
    assert yamlio.load_fast("a: !!str 5\nb: 0x1F\nc: on\n", "x") == {"a": "5", "b": 31, "c": "on"}


def test_the_event_reader_takes_ordinary_snapshots():
    text = "vms:\n- id: vm-1\n  name: '0777'\n  capacity: 1_000\n  on: off\n  ip: null\n"
    assert yamlio._from_events(text) == {"vms": [{"id": "vm-1", "name": "0777", "capacity": 1000, "on": "off",
                                                  "ip": None}]}


def _paths(node, prefix=()):
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in children:
        yield from _paths(value, (*prefix, key))


@settings(max_examples=200, deadline=None)
@given(documents(plain_keys), st.sampled_from([False, None, True]))
def test_positions_from_events_are_the_marked_loaders(doc, flow):
    """yamlio.position (snapshot errors: events walked again) names the line and column the
    marked loader (spec errors) gives, for every value of the document."""
    text = yaml.dump(doc, Dumper=yaml.CSafeDumper, default_flow_style=flow, allow_unicode=True)
    marked = yamlio.load_marked(text, "f.yaml")
    for path in list(_paths(yamlio.plain(marked)))[1:]:
        assert yamlio.position(text, "f.yaml", path) == yamlio.locate(marked, path, "f.yaml"), path


def _marks(node) -> list:
    """Every value with every position load_marked records, as plain data."""
    if isinstance(node, yamlio.Marked):
        return [("map", node.start, sorted(node.key_marks.items()), sorted(node.value_marks.items()))] + \
            [(k, _marks(v)) for k, v in node.items()]
    if isinstance(node, yamlio.MarkedList):
        return [("seq", node.start, node.item_marks)] + [_marks(v) for v in node]
    return [node]


def _both(text):
    results = []
    for loader in (yamlio._CMarkedLoader, yamlio._Loader):
        try:
            results.append(_marks(yamlio._load(loader, text, "f.yaml", yamlio.MAX_NODES)))
        except yamlio.MtvgenError as exc:
            results.append(("error", type(exc.__cause__).__name__ if exc.__cause__ else exc.what))
    return results


@settings(max_examples=300, deadline=None)
@given(documents(st.one_of(plain_keys, odd_keys)), st.sampled_from([False, None, True]), st.sampled_from([2, 4]))
def test_libyaml_and_pyyaml_mark_specs_alike(doc, flow, indent):
    """load_marked parses with libyaml and keeps PyYAML's parser for texts libyaml refuses:
    both give the same data and the same line and column for every key, value and item."""
    text = yaml.dump(doc, Dumper=yaml.CSafeDumper, default_flow_style=flow, allow_unicode=True, indent=indent)
    c_marks, py_marks = _both(text)
    assert c_marks == py_marks


HAND_WRITTEN = [
    "# a comment\napiVersion: mtvgen/v1   # trailing\nplans:\n  - name: a\n    select: [{folder: /DC/vm/x}]\n",
    "a:\n- 1\n- [2, {b: c}]\nd: |\n  text\n  more\ne: >-\n  folded\n",
    "base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n",
    "names: [café, 日本語, \"quoted: yes\", 'single']\nnext: ünïcode key\n",
    "k: v\n\n\n  # indented comment\nm:\n    deep:\n        deeper: 1\n",
    "? complex\n: value\n",
    "a: 1\na: 2\n",
    "list:\n  - a\n   - b\n",
    "x: [1, 2\n",
]


def _outcome_of(load, text):
    try:
        return _marks(load(text))
    except yamlio.MtvgenError as exc:
        return ("error", str(exc))


@pytest.mark.parametrize("text", HAND_WRITTEN)
def test_load_marked_is_pyyamls_reading_data_marks_and_errors(text):
    """What the user sees (data and marks, or the error's words and position) is what
    PyYAML's own parser gives, whichever parser read the text."""
    assert _outcome_of(lambda t: yamlio.load_marked(t, "f.yaml"), text) == \
        _outcome_of(lambda t: yamlio._load(yamlio._Loader, t, "f.yaml", yamlio.MAX_NODES), text)


@pytest.mark.parametrize("text,outcome", [
    ("a: 1\na: 2\n", ("error", "f.yaml:2:1: error: duplicate key 'a'\n  help: keep one 'a' (the first is at line 1)")),
    ("x: [1, 2\n", ("error", "f.yaml:2:1: error: not valid YAML: expected ',' or ']', but got '<stream end>'\n"
                              "  help: fix the YAML syntax at this position")),
])
def test_load_marked_errors_in_literal_words(text, outcome):
    """Written down, not computed: the agreement tests above would pass if both parsers
    worded an error the same wrong way."""
    assert _outcome_of(lambda t: yamlio.load_marked(t, "f.yaml"), text) == outcome


def test_the_writer_quotes_what_yaml_1_1_would_misread_in_literal_text():
    doc = {"a": "yes", "b": "01", "c": "x: y", "d": [1, "null", "~", ""], "e": "multi\nline"}
    assert yamlout.dump(doc) == "a: 'yes'\nb: '01'\nc: 'x: y'\nd:\n- 1\n- 'null'\n- '~'\n- ''\ne: |-\n  multi\n  line\n"
