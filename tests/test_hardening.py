"""Careless and hostile input, kills and concurrent builds: every failure is one
clear message with a location or a path and exit 1 (input) or 2 (environment),
never a traceback, and nothing good is lost."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

import sitekit
from compiler import pipeline
from compiler.commands.common import parse_now
from conftest import NOW, ROOT, run, tree
from sitekit import BASE_SPEC, vm


def build(root, *extra):
    return run(["build", "--now", NOW, *extra], root)


site = sitekit.locked


# ------------------------------------------------------------------ the lock

def test_a_lock_naming_a_vm_it_does_not_hold_is_an_error_at_its_line(tmp_path):
    d = site(tmp_path)
    lock = json.loads((d / "mtvgen.lock").read_text())
    lock["plans"]["wave1"].append("vm-999")
    text = json.dumps(lock, indent=1, sort_keys=True)
    (d / "mtvgen.lock").write_text(text)
    r = build(tmp_path)
    line = text[: text.index('"vm-999"')].count("\n") + 1
    assert r.exit_code == 1
    assert f"sites/t/mtvgen.lock:{line}: error: lock file is inconsistent: plan 'wave1' names VM 'vm-999'" in r.stderr
    assert not (tmp_path / "out").exists()


def test_a_mapping_whose_ids_do_not_line_up_with_its_entries_is_an_error(tmp_path):
    """The fuzzer's find: a lock with one id list fewer than the spec's (unchanged) mapping
    entries crashed the mapping check (exit 3) instead of naming the damage."""
    d = site(tmp_path)
    lock = json.loads((d / "mtvgen.lock").read_text())
    lock["maps"]["t-network"].pop()
    text = json.dumps(lock, indent=1, sort_keys=True)
    (d / "mtvgen.lock").write_text(text)
    r = build(tmp_path)
    line = text[: text.index('"t-network": [')].count("\n") + 1
    assert r.exit_code == 1, r.output
    assert (f"sites/t/mtvgen.lock:{line}: error: lock file is inconsistent: mapping 't-network' has 1 id list(s) "
            "for the spec's 2 entries") in r.stderr


def test_the_lock_of_another_site_says_so_once(tmp_path):
    site(tmp_path)
    other = sitekit.make(tmp_path, BASE_SPEC.replace("wave1", "wave9"), name="copy")
    (other / "mtvgen.lock").write_text((tmp_path / "sites/t/mtvgen.lock").read_text())
    r = run(["check", "sites/copy"], tmp_path)
    assert r.exit_code == 1 and r.stdout.count("MTV004") == 1
    assert "the lock belongs to site 't', not 'copy'" in r.stdout


# ------------------------------------------------------------------ the spec as bytes

@pytest.mark.parametrize("content,words,line", [
    (BASE_SPEC.encode().replace(b"apps", b"app\xe9s", 1), "not UTF-8 text (byte 0xe9)", 2),
    (BASE_SPEC.encode().replace(b"vddk:8", b"vddk:\x008", 1), "character '\\x00' is not allowed", 6),
    (b"a:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 80)) + b"x", "nests deeper than 50 levels", 51),
    (b"a: &a [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n".encode() for i in range(8)),
     "expands to more than 1,000,000 values", 6),
])
def test_hostile_specs_end_in_one_located_error(tmp_path, content, words, line):
    d = sitekit.make(tmp_path)
    (d / "site.yaml").write_bytes(content)
    t = time.monotonic()
    r = run(["check", "sites/t"], tmp_path)
    assert time.monotonic() - t < 10
    assert r.exit_code == 1, r.output
    assert f"sites/t/site.yaml:{line}:" in r.stderr and words in r.stderr, r.stderr


def test_a_huge_spec_is_refused(tmp_path):
    sitekit.make(tmp_path, BASE_SPEC + "#" * (5 << 20) + "\n")
    r = run(["check", "sites/t"], tmp_path)
    assert r.exit_code == 1 and "the limit is 4,194,304" in r.stderr


def test_catastrophic_regex_does_not_hang_a_lock(tmp_path):
    spec_text = BASE_SPEC.replace("      - folder: /DC/vm/prod", "      - regex: '(a+)+$'")
    inv = sitekit.inventory(vms=[vm("vm-1", "a" * 5000 + "b"), vm("vm-2", "aaa")])
    d = sitekit.make(tmp_path, spec_text, inv)
    t = time.monotonic()
    r = run(["lock", "sites/t", "--inventory", str(d / "inventory.yaml")], tmp_path)
    assert r.exit_code == 0 and time.monotonic() - t < 5
    assert json.loads((d / "mtvgen.lock").read_text())["plans"]["wave1"] == ["vm-2"]


@pytest.mark.parametrize("playbook", ["/etc/hostname", "../outside.yml", "link.yml"])
def test_playbooks_outside_the_site_are_never_embedded(tmp_path, playbook):
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "outside.yml").write_text("- hosts: secret-inventory\n")
    spec_text = BASE_SPEC.replace("image: quay.io/konveyor/hook-runner",
                                  f"image: quay.io/konveyor/hook-runner\n    playbook: {playbook}")
    d = sitekit.make(tmp_path, spec_text)
    (d / "link.yml").symlink_to(tmp_path / "sites" / "outside.yml")
    sitekit.lock(d)
    r = build(tmp_path)
    assert r.exit_code == 1 and "error[MTV006]" in r.stderr
    assert "outside the site directory" in r.stderr or "absolute path" in r.stderr
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ output

def test_a_site_without_its_spec_keeps_its_output(tmp_path):
    site(tmp_path)
    assert build(tmp_path).exit_code == 0
    before = tree(tmp_path / "out")
    (tmp_path / "sites/t/site.yaml").unlink()
    r = build(tmp_path)
    assert r.exit_code == 1 and "sites/t has a lock but no site.yaml" in r.stderr
    assert tree(tmp_path / "out") == before


def test_building_dot_inside_a_site_uses_the_directory_name(tmp_path):
    d = site(tmp_path)
    r = run(["build", ".", "--now", NOW, "--out", str(tmp_path / "out")], d)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["t"]


def test_odd_site_names_are_refused(tmp_path):
    d = sitekit.make(tmp_path, name="My Site")
    r = run(["check", str(d)], tmp_path)
    assert r.exit_code == 1 and "'My Site' is not a DNS-1123 label" in r.stderr


def test_output_of_something_else_is_never_removed(tmp_path):
    site(tmp_path)
    (tmp_path / "out/notes").mkdir(parents=True)
    (tmp_path / "out/notes/todo.txt").write_text("mine")
    assert build(tmp_path).exit_code == 0
    assert (tmp_path / "out/notes/todo.txt").read_text() == "mine"


def test_two_sites_writing_one_object_is_an_error(tmp_path):
    spec_text = BASE_SPEC.replace("source:\n  type: vsphere", "source:\n  type: vsphere\n  name: shared-vc")
    site(tmp_path, spec_text)
    d2 = sitekit.make(tmp_path, spec_text.replace("wave1", "wave2"), name="u")
    sitekit.lock(d2)
    r = build(tmp_path)
    assert r.exit_code == 1 and "error[MTV003]: Provider openshift-mtv/shared-vc is written by sites 't' and 'u'" \
        in r.stderr
    assert not (tmp_path / "out").exists()


def test_an_unwritable_output_is_an_environment_error(tmp_path):
    site(tmp_path)
    (tmp_path / "out").write_text("a file where the output directory should be")
    r = build(tmp_path)
    assert r.exit_code == 2
    assert r.stderr == ("error: cannot write out: File exists\n"
                        "  help: check free space and permissions of the output directory\n")


def test_strict_turns_a_warning_into_a_failed_build_that_writes_nothing(tmp_path):
    d = site(tmp_path, BASE_SPEC.replace("    preHook: prep\n", ""))     # hook 'prep' unused: a warning only
    r = build(tmp_path)
    assert r.exit_code == 0 and "warning[MTV050]" in r.stderr
    before = tree(tmp_path / "out")
    (d / "site.yaml").write_text(BASE_SPEC.replace("    preHook: prep\n", "") + "    start: true\n")
    r = run(["build", "--strict", "--now", NOW], tmp_path)
    assert r.exit_code == 1, r.output
    assert "error[MTV050]: hook 'prep' is used by no VM" in r.stderr and "warning[" not in r.stderr
    assert "build failed; nothing was written" in r.stderr
    assert tree(tmp_path / "out") == before                              # the old output stands
    r = run(["check", "--strict", "--now", NOW], tmp_path)
    assert r.exit_code == 1 and "error[MTV050]" in r.output


def test_an_internal_error_is_one_line_and_exit_3_unless_debugging(tmp_path, monkeypatch):
    site(tmp_path)

    def broken(*a, **k):
        raise RuntimeError("planted")
    monkeypatch.setattr(pipeline, "compile_site", broken)
    r = build(tmp_path)
    assert r.exit_code == 3
    assert r.stderr == ("internal error: RuntimeError: planted\n  help: this is a bug in mtvgen; run again with "
                        "MTVGEN_DEBUG=1 for the traceback and report it\n")
    monkeypatch.setenv("MTVGEN_DEBUG", "1")
    with pytest.raises(RuntimeError, match="planted"):       # the traceback reaches the terminal
        build(tmp_path)


def test_a_full_disk_is_an_environment_error(tmp_path, monkeypatch):
    import errno
    import pathlib
    site(tmp_path)

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(self))
    monkeypatch.setattr(pathlib.Path, "write_text", full)
    r = build(tmp_path)
    assert r.exit_code == 2 and "No space left on device" in r.stderr
    assert not (tmp_path / "out" / "t").exists()                         # nothing half-written


KILLER = textwrap.dedent("""
    import os, pathlib, shutil, sys
    from compiler.cli import main
    step, calls = int(sys.argv[1]), [0]
    def counted(fn):
        def wrapper(*a, **k):
            calls[0] += 1
            if calls[0] == step:
                os._exit(137)          # as kill -9: no cleanup runs
            return fn(*a, **k)
        return wrapper
    os.replace = counted(os.replace)
    shutil.rmtree = counted(shutil.rmtree)
    pathlib.Path.write_text = counted(pathlib.Path.write_text)
    pathlib.Path.mkdir = counted(pathlib.Path.mkdir)
    main(["build", "--now", sys.argv[2]])
""")


def test_a_kill_at_any_step_of_the_swap_is_repaired_by_the_next_build(tmp_path):
    d = site(tmp_path)
    assert build(tmp_path).exit_code == 0
    (d / "site.yaml").write_text(BASE_SPEC + "    start: true\n")          # the next build changes the output
    expected_root = tmp_path / "expected"
    sitekit.make(expected_root, BASE_SPEC + "    start: true\n")
    (expected_root / "sites/t/mtvgen.lock").write_text((d / "mtvgen.lock").read_text())
    assert build(expected_root).exit_code == 0
    expected = tree(expected_root / "out")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = 0
    for step in range(1, 200):
        p = subprocess.run([sys.executable, "-c", KILLER, str(step), NOW], cwd=tmp_path, env=env, capture_output=True)
        if p.returncode == 0:
            break
        assert p.returncode == 137, p.stderr
        killed += 1
        r = build(tmp_path)                      # the next run repairs and completes
        assert r.exit_code == 0, r.output
        assert tree(tmp_path / "out") == expected
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["t"]     # no .t.new.* / .t.old.* left
        (d / "site.yaml").write_text(BASE_SPEC)                                  # back to the old output ...
        assert build(tmp_path).exit_code == 0
        (d / "site.yaml").write_text(BASE_SPEC + "    start: true\n")            # ... and kill the next change
    assert killed > 10


def test_concurrent_builds_take_turns(tmp_path):
    site(tmp_path)
    assert build(tmp_path).exit_code == 0
    expected = tree(tmp_path / "out")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "compiler.cli", "build", "--now", NOW], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    codes = [p.wait(timeout=120) for p in procs]
    assert codes == [0, 0, 0, 0], [p.stderr.read() for p in procs]
    assert tree(tmp_path / "out") == expected        # no file lost or doubled by an interleaving


@pytest.mark.parametrize("held", ["LOCK_EX", "LOCK_SH"])
def test_a_build_waits_for_the_one_that_holds_the_output(tmp_path, held):
    """Deterministic: the test holds a flock on out/ (exclusive, or shared: a build that
    took only a shared lock would share it and not wait), so the build must wait, say so,
    and write nothing until the lock is released."""
    import fcntl
    site(tmp_path)
    (tmp_path / "out").mkdir()
    fd = os.open(tmp_path / "out", os.O_RDONLY)
    fcntl.flock(fd, getattr(fcntl, held))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen([sys.executable, "-m", "compiler.cli", "build", "--now", NOW], cwd=tmp_path, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stderr.readline()      # blocks until the build says it waits (or ends)
        assert line == "waiting for another build of out/ ...\n", line
        time.sleep(0.3)
        assert p.poll() is None and list((tmp_path / "out").iterdir()) == []
    finally:
        os.close(fd)                    # releases the lock
    assert p.wait(timeout=60) == 0, p.stderr.read()
    assert (tmp_path / "out" / "t").is_dir()


# ------------------------------------------------------------------ credentials

MARKER = "Zq7marker4031"


def test_a_credential_value_appears_nowhere(tmp_path, monkeypatch):
    outputs = []
    for i, creds in enumerate([f"    secret: vc\n    data: {{password: {MARKER}}}",
                               "    secret: vc\n    data: {password: 40318877}",
                               "    plaintextFromEnv: {user: VC_USER, password: VC_PASS, ca.crt: VC_CA}"]):
        monkeypatch.setenv("VC_USER", MARKER)
        monkeypatch.setenv("VC_PASS", MARKER)
        monkeypatch.setenv("VC_CA", MARKER)
        root = tmp_path / str(i)
        d = sitekit.make(root, BASE_SPEC.replace("    secret: vc-creds", creds))
        for args in (["check", "sites/t"], ["lock", "sites/t", "--inventory", str(d / "inventory.yaml")],
                     ["build", "--now", NOW], ["build", "--now", NOW, "--format", "json"]):
            r = run(args, root)
            outputs.append(r.output)
        outputs += [p.read_text() for p in root.rglob("*") if p.is_file() and p.suffix in (".yaml", ".lock")
                    and p.name != "site.yaml"]
    creds_file = tmp_path / "creds.yaml"
    creds_file.write_text(f"user: admin\npassword: {MARKER}\n")
    sitekit.make(tmp_path / "live", BASE_SPEC.replace("https://vc.example.com/sdk", "https://127.0.0.1:9/sdk"))
    r = run(["lock", "sites/t", "--credentials-file", str(creds_file), "--timeout", "2"], tmp_path / "live")
    assert r.exit_code == 2, r.output
    outputs.append(r.output)
    leaks = [o for o in outputs if MARKER in o or "40318877" in o]
    assert leaks == []


# ------------------------------------------------------------------ fuzzing

VALID = BASE_SPEC.encode()


@st.composite
def damaged(draw, base: bytes):
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "dup"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[at: at + draw(st.integers(1, 40))]
        elif op == "insert":
            data[at:at] = draw(st.sampled_from([b"\x00", b"&a ", b"*a", b"{", b"[", b"- ", b": ", b"\t", b"\xff",
                                                b"\n  ", b"'", b'"', b"!!python/object ", b"%YAML 1.1\n"]))
        else:
            data[at:at] = data[at: at + draw(st.integers(1, 80))]
    return bytes(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=damaged(VALID))
def test_fuzzed_specs_never_crash(tmp_path_factory, content):
    root = tmp_path_factory.mktemp("fuzz")
    d = sitekit.make(root)
    (d / "site.yaml").write_bytes(content)
    r = run(["check", "sites/t"], root)
    assert r.exit_code in (0, 1), r.output
    if r.exit_code == 1:
        assert "sites/t/site.yaml" in r.output or "sites/t/mtvgen.lock" in r.output, r.output


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_locks_never_crash(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("fuzzlock")
    d = site(root)
    lock = (d / "mtvgen.lock").read_bytes()
    (d / "mtvgen.lock").write_bytes(data.draw(damaged(lock)))
    r = build(root)
    assert r.exit_code in (0, 1), r.output
    if r.exit_code == 1:
        assert "sites/t/mtvgen.lock" in r.output or "sites/t/site.yaml" in r.output, r.output


def test_a_deeply_nested_lock_is_damaged_not_a_crash(tmp_path):
    """msgspec refuses nesting past 1,000 levels with RecursionError, even inside a key it
    skips: that is a damaged lock (exit 1), not an internal error (exit 3)."""
    d = site(tmp_path)
    lock = json.loads((d / "mtvgen.lock").read_text())
    text = json.dumps(lock)[:-1] + ', "extra": ' + "[" * 5000 + "]" * 5000 + "}"
    (d / "mtvgen.lock").write_text(text)
    r = build(tmp_path)
    assert r.exit_code == 1, r.output
    assert "sites/t/mtvgen.lock: error: lock file is damaged (maximum recursion depth exceeded" in r.stderr


def _cyclic_garbage_of_a_build(root, n_vms: int) -> int:
    vms = [vm(f"vm-{i}", f"app {i}", nics=[{"network": {"kind": "Network", "id": "network-1"},
                                            "mac": f"00:50:56:00:{i >> 8:02x}:{i & 255:02x}"}])
           for i in range(n_vms)]
    site_dir = sitekit.make(root, inv=sitekit.inventory(vms=vms))
    sitekit.lock(site_dir)
    gc.collect()
    gc.disable()
    try:
        result = pipeline.compile_site(site_dir, pipeline.Options(now=parse_now(NOW)))
        assert len(result.files) > 3
        del result
        return gc.collect()
    finally:
        gc.enable()


def test_an_offline_build_leaves_no_cycles_that_grow_with_the_site(tmp_path):
    """build, check and summary run with the collector off (commands/common.py): sound only
    while what they make dies by reference counting. A cycle per VM or per plan would grow
    their memory with the site."""
    _cyclic_garbage_of_a_build(tmp_path / "warm", 5)    # first-use caches (Jinja, schemas)
    small = _cyclic_garbage_of_a_build(tmp_path / "small", 20)
    large = _cyclic_garbage_of_a_build(tmp_path / "large", 400)
    assert large <= small + 10, (small, large)


def test_no_control_sequence_from_a_spec_reaches_a_terminal_or_a_ci_log(tmp_path):
    """A diagnostic quotes what a pull request wrote (here a throughput limit's host name):
    an escape sequence in it is shown as `\\x1b`, in text and in GitHub annotations."""
    import sitekit
    sitekit.locked(tmp_path, sitekit.BASE_SPEC.replace(
        "plans:\n", 'throughput: {perVM: 1MiB/s, total: 1GiB/s, hosts: {"esx\\e[2J\\e]0;owned\\a": 1MiB/s}}\nplans:\n'))
    for fmt in ("text", "github"):
        r = run(["check", "sites/t", "--format", fmt], tmp_path)
        assert "MTV171" in r.output and "\x1b" not in r.output and "\x07" not in r.output
        assert "esx\\x1b[2J\\x1b]0;owned\\x07" in r.output


def test_the_lock_output_shows_a_vm_names_control_sequence_as_an_escape(tmp_path):
    """A VM is named by whoever may create one in vCenter; `mtvgen lock` says which VMs a
    plan gains, by name."""
    import sitekit
    d = sitekit.locked(tmp_path)
    (d / "inventory.yaml").write_text(yaml.safe_dump(sitekit.inventory(vms=sitekit.BASE_INVENTORY["vms"] + [
        sitekit.vm("vm-9", "evil\x1b]0;owned\x07")]), sort_keys=False))
    r = run(["lock", "sites/t", "--inventory", "sites/t/inventory.yaml"], tmp_path)
    assert r.exit_code == 0, r.output
    assert "\x1b" not in r.output and "evil\\x1b]0;owned\\x07" in r.output
