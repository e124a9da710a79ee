"""The broken example: many problems in one run, stable order, every format."""

from __future__ import annotations

import json

import pytest

from conftest import NOW, ROOT, run

EXPECTED = {"MTV020", "MTV021", "MTV022", "MTV025", "MTV030", "MTV031", "MTV032", "MTV033", "MTV035", "MTV036", "MTV041",
            "MTV043", "MTV044", "MTV050", "MTV071", "MTV072", "MTV074", "MTV076", "MTV081", "MTV082", "MTV083",
            "MTV091", "MTV094"}


def _check(fmt):
    r = run(["check", "sites/broken-example", "--format", fmt, "--now", NOW], ROOT)
    assert r.exit_code == 1
    return r.stdout


def test_all_problems_in_one_run_in_stable_order():
    data = json.loads(_check("json"))
    diags = data["diagnostics"]
    assert {d["code"] for d in diags} == EXPECTED
    keys = [(d["file"], d["line"], d["column"], d["code"], d["message"]) for d in diags]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert all(d["file"] == "sites/broken-example/site.yaml" and d["line"] for d in diags)
    assert data["summary"]["suppressed"] == 2 and data["summary"]["error"] > 10
    assert _check("json") == _check("json")


def test_text_matches_readme():
    """The README shows exactly what a newcomer sees."""
    text = _check("text")
    readme = (ROOT / "README.md").read_text()
    assert text.strip() in readme


def test_github_annotations():
    lines = _check("github").splitlines()
    first = lines[0]
    assert first.startswith("::error file=sites/broken-example/site.yaml,line=") and ",title=MTV" in first
    assert any(line.startswith("::warning ") for line in lines)
    assert not any("suppressed" in line and line.startswith("::") for line in lines)
    assert "error(s)" in lines[-1]


def test_sarif_2_1_0_shape():
    doc = json.loads(_check("sarif"))
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    run_ = doc["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert run_["tool"]["driver"]["name"] == "mtvgen" and set(ids) == EXPECTED
    for res in run_["results"]:
        assert res["ruleId"] in ids and rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] in ("error", "warning", "note")
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "sites/broken-example/site.yaml" and loc["region"]["startLine"] > 0
    assert sum(1 for r in run_["results"] if r.get("suppressions")) == 2


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_bundled_sites_are_clean_and_broken_example_is_not_built_by_default(fmt):
    r = run(["check", "--strict", "--format", fmt, "--now", NOW], ROOT)  # --strict: not even a warning
    assert r.exit_code == 0, r.stdout
    assert "broken-example" not in r.stdout
