"""The direct YAML writer (yamlio._direct) against libyaml's emitter: the build
promises byte-identical output, so any difference is a bug in the fast path."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from compiler import yamlio
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
    assert _outcome(yamlio.dump, doc) == _outcome(yamlio._libyaml, doc)


@settings(max_examples=200, deadline=None)
@given(documents(st.one_of(plain_keys, odd_keys)))
def test_odd_keys_too(doc):
    assert _outcome(yamlio.dump, doc) == _outcome(yamlio._libyaml, doc)


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
    text = yamlio._direct(doc)
    assert text == yamlio._libyaml(doc)
    assert "  - id: vm-1\n    name: App 1\n  - id: vm-2\n    name: 'on'\n" in text


def test_many_line_strings_go_to_libyaml():
    doc = {"data": {"playbook": "- hosts: all\n  tasks: []\n"}}
    assert yamlio._direct(doc) is None
    assert yamlio.dump(doc) == yamlio._libyaml(doc)
