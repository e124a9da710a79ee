"""Malformed specs: each gives one clear error at the right line, exit 1, and
writes nothing."""

from __future__ import annotations

import pytest

from conftest import NOW, out_file, run, tree
import sitekit


def _build_fails(tmp_path, spec_text, *, lock_first=True):
    d = sitekit.make(tmp_path)
    if lock_first:
        sitekit.lock(d)
    first = run(["build", "--now", NOW], tmp_path)
    assert first.exit_code == (0 if lock_first else 1), first.output
    before = tree(tmp_path / "out")
    (d / "site.yaml").write_text(spec_text)
    r = run(["build", "--now", NOW], tmp_path)
    assert r.exit_code == 1, r.output
    assert tree(tmp_path / "out") == before, "a failed build must not touch out/"
    return r.stderr


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_unknown_key_names_line_and_nearest_key(tmp_path):
    spec = sitekit.BASE_SPEC.replace("    preHook: prep", "    preHok: prep")
    err = _build_fails(tmp_path, spec)
    assert f"sites/t/site.yaml:{_line_of(spec, 'preHok')}:5: error[MTV001]: unknown key 'preHok'" in err
    assert "did you mean 'preHook'?" in err


def test_wrong_type(tmp_path):
    spec = sitekit.BASE_SPEC.replace("  - name: wave1\n", "  - name: wave1\n    preserveStaticIPs: maybe\n")
    err = _build_fails(tmp_path, spec)
    assert f"site.yaml:{_line_of(spec, 'maybe')}:" in err
    assert "plans.0.preserveStaticIPs: expected boolean, got str 'maybe'" in err


def test_bad_enum_value(tmp_path):
    spec = sitekit.BASE_SPEC.replace("  - name: wave1\n", "  - name: wave1\n    type: hot\n")
    err = _build_fails(tmp_path, spec)
    assert "'hot' is not one of cold, warm, live, conversion" in err


@pytest.mark.parametrize("url", ["https://[vc.example.com/sdk", "https://vc.example.com:99999/sdk",
                                 "https://vc.example.com:port/sdk", "vc.example.com/sdk"])
def test_a_malformed_source_url_is_an_error_at_its_line(tmp_path, url):
    """urlparse raises on some of these (the fuzzer found `https://[`): an error, not a crash."""
    spec = sitekit.BASE_SPEC.replace("url: https://vc.example.com/sdk", f"url: '{url}'")
    err = _build_fails(tmp_path, spec)
    assert f"site.yaml:{_line_of(spec, url)}:" in err
    assert f"error[MTV001]: source.url: {url!r} is not an http(s) URL with a host" in err


def test_bad_hook_reference(tmp_path):
    spec = sitekit.BASE_SPEC.replace("preHook: prep", "preHook: prepp")
    err = _build_fails(tmp_path, spec)
    assert f"site.yaml:{_line_of(spec, 'prepp')}:" in err
    assert "error[MTV002]: preHook 'prepp' is not a hook of this site" in err and "did you mean 'prep'" in err


def test_duplicate_plan_names(tmp_path):
    spec = sitekit.BASE_SPEC + "  - name: wave1\n    select:\n      - name: beta\n"
    err = _build_fails(tmp_path, spec)
    assert "error[MTV003]: plan 'wave1' is defined twice" in err
    assert f"site.yaml:{len(spec.splitlines()) - 2}:" in err


def test_duplicate_yaml_key(tmp_path):
    spec = sitekit.BASE_SPEC.replace("targetNamespace: apps\n", "targetNamespace: apps\ntargetNamespace: other\n")
    err = _build_fails(tmp_path, spec)
    assert "site.yaml:3:1: error: duplicate key 'targetNamespace'" in err


def test_yaml_syntax_error(tmp_path):
    err = _build_fails(tmp_path, sitekit.BASE_SPEC + "  - name: [unclosed\n")
    assert "error: not valid YAML" in err and "site.yaml:" in err


def test_stale_lock_names_the_changed_section(tmp_path):
    spec = sitekit.BASE_SPEC.replace("- folder: /DC/vm/prod", "- folder: /DC/vm/test")
    err = _build_fails(tmp_path, spec)
    assert f"site.yaml:{_line_of(spec, '- name: wave1')}:5: error[MTV004]: plan wave1 changed since the lock" in err
    assert "mtvgen lock" in err


def test_missing_lock(tmp_path):
    d = sitekit.make(tmp_path)
    r = run(["build"], tmp_path)
    assert r.exit_code == 1
    assert "sites/t/mtvgen.lock: error: site 't' has no lock file" in r.stderr
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in d.iterdir()) == ["inventory.yaml", "site.yaml"]   # nothing written beside them


def test_plaintext_credentials_need_the_flag(tmp_path, monkeypatch):
    spec = sitekit.BASE_SPEC.replace("    secret: vc-creds",
                                     "    plaintextFromEnv: {user: VC_USER, password: VC_PASS, ca.crt: VC_CA}")
    err = _build_fails(tmp_path, spec)
    assert "error[MTV005]: credentials.plaintextFromEnv writes the credentials into Git in plaintext" in err
    monkeypatch.setenv("VC_USER", "admin")
    monkeypatch.setenv("VC_PASS", "s3cret")
    monkeypatch.setenv("VC_CA", "---CERT---")
    r = run(["build", "--now", NOW, "--allow-plaintext-secrets"], tmp_path)
    assert r.exit_code == 0, r.output
    assert "warning: --allow-plaintext-secrets" in r.stderr
    assert "s3cret" in out_file(tmp_path / "out" / "t", "secret-t-vsphere-credentials.yaml").read_text()


def test_secret_value_in_literal_data_is_refused(tmp_path):
    spec = sitekit.BASE_SPEC.replace("    secret: vc-creds", "    secret: vc-creds\n    data: {password: hunter2}")
    err = _build_fails(tmp_path, spec)
    assert "credentials.data.password would put a secret value in Git" in err


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
def test_spec_errors_in_machine_formats(tmp_path, fmt):
    d = sitekit.make(tmp_path, sitekit.BASE_SPEC.replace("preHook: prep", "preHok: prep"))
    r = run(["check", "--format", fmt], tmp_path)
    assert r.exit_code == 1
    assert "MTV001" in r.stdout and "sites/t/site.yaml" in r.stdout
    assert not (d / "mtvgen.lock").exists() and not (tmp_path / "out").exists()
