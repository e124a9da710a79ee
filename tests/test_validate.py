"""The fast schema check (jsonschema-rs) must never pass a document that jsonschema
rejects: every error the build reports comes from jsonschema's walk, which runs
only when the fast check says no. Mutations of the bundled sites' documents and
specs, one field at a time, hold the two to agreement."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import spec, validate, yamlio

OUT = Path(__file__).resolve().parents[1] / "out"
SITES = Path(__file__).resolve().parents[1] / "sites"
VALIDATORS = validate._validators()
DOCS = [d for f in sorted(OUT.rglob("*.yaml")) for d in yaml.safe_load_all(f.read_text())
        if isinstance(d, dict) and d.get("kind") in VALIDATORS and d.get("apiVersion", "").startswith("forklift")]
VALUES = ["", "x", "on", "Plan", "10.0.0.1", "::1", "1.2.3", "a_b", "a" * 64, "ab\n", "PreHook",
          0, -1, 1.5, True, None, [], {}, {"name": "x"}, [{"id": "vm-1"}]]


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _mutate(doc, path, how, value):
    doc = copy.deepcopy(doc)
    if not path:
        return value if how == "set" else doc
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    last = path[-1]
    if how == "set":
        parent[last] = value
    elif how == "delete":
        del parent[last]
    elif isinstance(parent, dict):
        parent["unknownField"] = value          # strict schemas: unknown fields are errors
    return doc


def test_every_kind_is_covered_and_the_bundled_documents_pass():
    assert {d["kind"] for d in DOCS} == set(VALIDATORS)
    for d in DOCS:
        assert VALIDATORS[d["kind"]].fast.is_valid(d), d["metadata"]["name"]


@settings(max_examples=1500, deadline=None)
@given(data=st.data())
def test_fast_check_agrees_with_jsonschema(data):
    kind = data.draw(st.sampled_from(sorted(VALIDATORS)))      # every kind as often, however many Plans
    doc = data.draw(st.sampled_from([d for d in DOCS if d["kind"] == kind]))
    path = data.draw(st.sampled_from(list(_paths(doc))))
    how = data.draw(st.sampled_from(["set", "delete", "add"]))
    value = data.draw(st.sampled_from(VALUES))
    mutated = _mutate(doc, path, how, value)
    schema = VALIDATORS[doc["kind"]]
    python_valid = not any(True for _ in schema.python.iter_errors(mutated))
    fast_valid = schema.fast.is_valid(mutated)
    if fast_valid:
        assert python_valid, f"fast check passed what jsonschema rejects: {path} {how} {value!r}"
    if value != "ab\n":      # `$` before a final newline: Python accepts, Rust is stricter
        assert fast_valid == python_valid, f"{path} {how} {value!r}"


@pytest.mark.parametrize("kind", sorted(VALIDATORS))
def test_errors_are_still_jsonschemas_words(kind):
    doc = next(d for d in DOCS if d["kind"] == kind)
    bad = _mutate(doc, ("spec",), "add", 1)
    errors = list(VALIDATORS[kind].iter_errors(bad))
    assert [e.message for e in errors] == [e.message for e in VALIDATORS[kind].python.iter_errors(bad)]
    assert any("unknownField" in e.message for e in errors)


SPECS = [yamlio.plain(yamlio.load_marked(f.read_text(), str(f))) for f in sorted(SITES.glob("*/site.yaml"))]


@settings(max_examples=800, deadline=None)
@given(data=st.data())
def test_fast_spec_check_agrees_with_jsonschema(data):
    """The same for site specs (schemas/site.schema.json)."""
    doc = data.draw(st.sampled_from(SPECS))
    path = data.draw(st.sampled_from(list(_paths(doc))))
    value = data.draw(st.sampled_from(VALUES))
    mutated = _mutate(doc, path, data.draw(st.sampled_from(["set", "delete", "add"])), value)
    schema = spec._site_schema()
    python_valid = not any(True for _ in schema.python.iter_errors(mutated))
    fast_valid = schema.fast.is_valid(mutated)
    if fast_valid:
        assert python_valid, f"fast check passed what jsonschema rejects: {path} {value!r}"
    if value != "ab\n":      # as above: Rust's `$` is the stricter
        assert fast_valid == python_valid, (path, value)
