"""Small, exact tests of the pure helpers that mutation testing (scripts/mutation)
showed under-tested: encrypted-file checks, batch freezing, durations, units."""

from __future__ import annotations

import json

import pytest
import yaml

import sitekit
from compiler import lifecycle, secretfiles
from compiler.delivery import units
from compiler.documents import HOST_CREDENTIALS, Document
from compiler.errors import Location
from sitekit import BASE_SPEC, vm

NS = "openshift-mtv"
W = Location("site.yaml", 3)


def sealed(**over) -> dict:
    doc = {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
           "metadata": {"name": "vc", "namespace": NS},
           "spec": {"encryptedData": {"user": "AgA1", "password": "AgA2"},
                    "template": {"metadata": {"labels": {"a": "b"}}, "data": {"insecureSkipVerify": "false"}}}}
    for path, value in over.items():
        node = doc
        *head, last = path.split(".")
        for key in head:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return doc


def sops(**over) -> dict:
    doc = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "vc", "namespace": NS, "labels": {"x": "y"}},
           "stringData": {"user": "ENC[AES256_GCM,data:YQ==]"}, "data": {"password": "ENC[AES256_GCM,data:Yg==]"},
           "sops": {"mac": "ENC[AES256_GCM,data:bWFj]"}}
    doc.update(over)
    return doc


def read(tmp_path, body, mode="sealedSecret", name="f.yaml"):
    (tmp_path / name).write_text(body if isinstance(body, str) else yaml.safe_dump(body))
    return secretfiles.read(tmp_path, name, mode, NS, W)


def test_a_good_sealed_secret(tmp_path):
    sf = read(tmp_path, sealed())
    assert (sf.problems, sf.name, sf.keys, sf.labels, sf.kind) == \
        ((), "vc", ("insecureSkipVerify", "password", "user"), {"a": "b"}, "SealedSecret")
    assert sf.text == yaml.safe_dump(sealed()) and sf.where == W and sf.path == "f.yaml"


@pytest.mark.parametrize("over,problem", [
    ({"apiVersion": "bitnami.com/v1"}, "f.yaml is not a bitnami.com/v1alpha1 SealedSecret (kubeseal output)"),
    ({"kind": "Secret"}, "f.yaml is not a bitnami.com/v1alpha1 SealedSecret (kubeseal output)"),
    ({"metadata.namespace": "default"}, "f.yaml is sealed for namespace 'default'; the Secret is needed in "
                                        "'openshift-mtv' (re-seal it with --namespace openshift-mtv)"),
    ({"spec.encryptedData": {}}, "f.yaml: spec.encryptedData must map each key to its ciphertext"),
    ({"spec.encryptedData": {"user": ""}}, "f.yaml: spec.encryptedData must map each key to its ciphertext"),
    ({"metadata.name": "Bad_Name"}, "f.yaml: metadata.name must be a valid Secret name"),
])
def test_sealed_secret_problems(tmp_path, over, problem):
    assert read(tmp_path, sealed(**over)).problems == (problem,)


def test_a_wider_sealing_scope_may_use_another_namespace(tmp_path):
    for scope in ("cluster-wide", "namespace-wide"):
        body = sealed(**{"metadata.namespace": "default"})
        body["metadata"]["annotations"] = {f"sealedsecrets.bitnami.com/{scope}": "true"}
        assert read(tmp_path, body).problems == ()


def test_a_good_sops_file(tmp_path):
    sf = read(tmp_path, sops(), "sops")
    assert (sf.problems, sf.keys, sf.labels, sf.kind) == ((), ("password", "user"), {"x": "y"}, "Secret")


@pytest.mark.parametrize("over,problem", [
    ({"kind": "ConfigMap"}, "f.yaml is not a v1 Secret"),
    ({"metadata": {"name": "vc", "namespace": "x"}}, "f.yaml: metadata.namespace must be 'openshift-mtv'"),
    ({"sops": {"version": "3"}}, "f.yaml carries no SOPS metadata: encrypt it with `sops --encrypt` first"),
    ({"stringData": {"user": "root", "token": 42}}, "f.yaml: the value(s) of token, user are not encrypted; "
                                                    "committing the file would put them in Git in plaintext"),
])
def test_sops_problems(tmp_path, over, problem):
    assert read(tmp_path, sops(**over), "sops").problems == (problem,)


@pytest.mark.parametrize("text,problem", [
    ("- a\n- b\n", "f.yaml does not hold one Kubernetes object"),
    ("a: [unclosed\n", "f.yaml is not a YAML document"),
])
def test_files_that_are_no_object(tmp_path, text, problem):
    assert read(tmp_path, text).problems == (problem,)


def test_paths_must_stay_in_the_site(tmp_path):
    (tmp_path / "site").mkdir()
    assert secretfiles.inside(tmp_path / "site", "a/b.yaml") == ((tmp_path / "site/a/b.yaml").resolve(), "")
    assert secretfiles.inside(tmp_path / "site", "/etc/x")[1] == "is an absolute path; name a file inside the site " \
                                                                 "directory"
    assert secretfiles.inside(tmp_path / "site", "../x")[1] == "points outside the site directory"
    assert secretfiles.read(tmp_path / "site", "missing.yaml", "sops", NS, W) == secretfiles.SecretFile(
        mode="sops", path="missing.yaml", where=W, problems=("cannot read missing.yaml: No such file or directory",))


@pytest.mark.parametrize("rel, text, problem", [
    ("../x.yaml", None, "../x.yaml points outside the site directory"),
    ("bad.yaml", "a: [", "bad.yaml is not a YAML document"),
    ("list.yaml", "- a\n- b\n", "list.yaml does not hold one Kubernetes object"),
])
def test_an_unusable_file_keeps_its_mode_path_and_place_for_the_message(tmp_path, rel, text, problem):
    (tmp_path / "site").mkdir()
    if text is not None:
        (tmp_path / "site" / rel).write_text(text)
    got = secretfiles.read(tmp_path / "site", rel, "sealedSecret", NS, W)
    assert got == secretfiles.SecretFile(mode="sealedSecret", path=rel, where=W, problems=(problem,))
    assert got.kind == "SealedSecret"


@pytest.mark.parametrize("metadata", [{"namespace": NS}, {"name": 7, "namespace": NS}, "not a mapping"])
def test_a_secret_file_without_a_usable_name_says_so_and_has_none(tmp_path, metadata):
    doc = sops()
    doc["metadata"] = metadata
    sf = read(tmp_path, doc, "sops")
    assert sf.name == "" and "f.yaml: metadata.name must be a valid Secret name" in sf.problems


@pytest.mark.parametrize("text,seconds", [("6h", 21600), ("90m", 5400), ("1h30m", 5400), ("45s", 45),
                                          ("2h0m30s", 7230), ("500ms", 0)])
def test_durations(text, seconds):
    assert lifecycle.duration_seconds(text) == seconds


def test_times_need_an_offset():
    from compiler.checks.cutover import parse_time
    assert parse_time("2026-12-05T21:00:00+01:00").isoformat() == "2026-12-05T21:00:00+01:00"
    assert parse_time("2026-12-05T21:00:00") is None            # naive: whose 21:00?
    assert parse_time("tonight") is None


def test_pins_are_taken_at_whole_seconds_in_utc():
    import re
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", lifecycle.utc_now())


def test_window_bounds():
    from compiler.sitemodel import Wave
    w = Wave(1, "2026-12-05T21:00:00+01:00", "8h", W)
    assert lifecycle.window_start(w).isoformat() == "2026-12-05T21:00:00+01:00"
    assert lifecycle.window_end(w).isoformat() == "2026-12-06T05:00:00+01:00"
    assert lifecycle.window_start(Wave(1, "2026-12-05T21:00:00", "8h", W)) is None        # no offset
    assert lifecycle.window_end(Wave(1, "soon", "8h", W)) is None


DASHED = BASE_SPEC.replace("name: wave1", "name: web-farm") + "    batch: {maxVMs: 1}\n"


def _lock(d, vms):
    (d / "inventory.yaml").write_text(yaml.safe_dump(sitekit.inventory(vms=vms), sort_keys=False))
    sitekit.lock(d)
    return json.loads((d / "mtvgen.lock").read_text())


def test_a_batched_plan_with_every_batch_done_is_frozen(tmp_path):
    d = sitekit.make(tmp_path, DASHED)
    _lock(d, [vm("vm-1", "a1"), vm("vm-2", "a2")])
    (d / "site.yaml").write_text(DASHED + "    done: [1, 2]\n")
    lock = _lock(d, [vm("vm-1", "a1"), vm("vm-2", "a2"), vm("vm-3", "a3")])      # a newcomer is not taken
    assert lock["batches"] == {"web-farm": ["web-farm-01", "web-farm-02"]}
    assert set(lock["frozen"]) == {"web-farm", "web-farm-01", "web-farm-02"}
    assert "vm-3" not in lock["vms"]
    from compiler import check, lock as lockmod, spec
    site = spec.load(d)
    problems = check.run(lifecycle.expand(site, lockmod.read(site)), lockmod.read(site))
    assert [x.code for x in problems if x.code in ("MTV093", "MTV124")] == []


def test_a_batched_plan_with_some_batches_done(tmp_path):
    d = sitekit.make(tmp_path, DASHED)
    _lock(d, [vm("vm-1", "a1"), vm("vm-2", "a2")])
    (d / "site.yaml").write_text(DASHED + "    done: [1]\n")
    lock = _lock(d, [vm("vm-2", "a2"), vm("vm-3", "a3")])                        # vm-1 vanished from vCenter
    assert lock["batches"] == {"web-farm": ["web-farm-01", "web-farm-02", "web-farm-03"]}
    assert lock["plans"]["web-farm-01"] == ["vm-1"] and "vm-1" in lock["vms"]   # done: kept as it ran
    assert lock["plans"]["web-farm-03"] == ["vm-3"]
    assert list(lock["frozen"]) == ["web-farm-01"]
    assert not lifecycle.fully_done(__import__("compiler").spec.load(d).spec_plans[0], lock["batches"]["web-farm"])


def _doc(kind, name, plan="", role=""):
    return Document(kind, name, NS, {}, W, plan=plan, role=role)


def test_units_split_and_order():
    docs = [_doc("Plan", "p", plan="p"), _doc("Migration", "p-1", plan="p"), _doc("Provider", "vc"),
            _doc("NetworkMap", "site-net"), _doc("NetworkMap", "p-net", plan="p"), _doc("Host", "h"),
            _doc("Secret", "h-creds", role=HOST_CREDENTIALS), _doc("ExternalSecret", "vc-creds"),
            _doc("Plan", "q", plan="q")]
    got = {u.key: ([d.name for d in u.docs], u.depends_on, u.path) for u in units.split(docs, ["p", "q"])}
    assert got == {
        "shared": (["vc-creds", "vc", "site-net"], (), "shared"),
        "hosts": (["h-creds", "h"], ("shared",), "hosts"),
        "plan:p": (["p-net", "p"], ("shared",), "plans/p/plan"),
        "run:p": (["p-1"], ("plan:p",), "plans/p/run"),
        "plan:q": (["q"], ("shared",), "plans/q/plan"),
    }
    assert units.split(docs, ["p", "q"])[2].kinds == ["NetworkMap", "Plan"]


def test_name_length_boundaries():
    from compiler import names
    assert names.is_label("a" * 63) and not names.is_label("a" * 64)
    assert names.is_subdomain("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61)       # 253
    assert not names.is_subdomain("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 62)  # 254
    assert names.target_vm_name("a" * 63, "vm-1") == "a" * 63
    assert names.target_vm_name("a" * 64, "vm-1") == "a" * 63
    assert names.forklift_vm_name("b" * 63) == "b" * 63
    assert names.forklift_vm_name("c" * 63 + ".d") == "c" * 63                  # whole name cut at 63, dot trimmed
    assert names.target_vm_name("...", "vm-42") == "vm-" + names.digest("vm-42", 4) and len(names.digest("x")) == 6


def test_to_label_edges():
    from compiler import names
    assert names.to_label("a" * 63) == "a" * 63
    long = names.to_label("a" * 64)
    assert len(long) == 63 and long.startswith("a" * 56 + "-") and long.endswith(names.digest("a" * 64))
    assert names.to_label("-abc-") == "abc-" + names.digest("-abc-")
    assert names.to_label("!!!") == "x-" + names.digest("!!!")
    assert names.to_label("ok") == "ok"


def test_freezing_ignores_key_order_and_exempt_keys(tmp_path):
    from compiler import spec
    d = sitekit.make(tmp_path, BASE_SPEC + "    done: true\n    targetPowerState: 'on'\n")
    frozen = lifecycle.plan_digest(spec.load(d).spec_plans[0])
    reordered = BASE_SPEC.replace("  - name: wave1\n    preHook: prep\n",
                                  "  - name: wave1\n    targetPowerState: 'on'\n    preHook: prep\n")
    (d / "site.yaml").write_text(reordered + "    done: true\n    start: true\n    archived: true\n")
    assert lifecycle.plan_digest(spec.load(d).spec_plans[0]) == frozen
    (d / "site.yaml").write_text(reordered.replace("'on'", "'off'") + "    done: true\n")
    assert lifecycle.plan_digest(spec.load(d).spec_plans[0]) != frozen
    assert frozen.startswith("sha256:") and len(frozen) == len("sha256:") + 16


def test_expanded_batches_carry_their_number_parent_and_state(tmp_path):
    from compiler import lock as lockmod, spec
    d = sitekit.make(tmp_path, DASHED + "    start: {batches: [2]}\n    done: [1]\n")
    _lock(d, [vm("vm-1", "a1"), vm("vm-2", "a2"), vm("vm-3", "a3")])
    site = spec.load(d)
    plans = lifecycle.expand(site, lockmod.read(site)).plans
    got = [(p.name, p.batch, p.parent, p.done, p.start is not None, p.spec_name, p.object_name) for p in plans]
    assert got == [("web-farm-01", 1, "web-farm", True, False, "web-farm", "t-web-farm-01"),
                   ("web-farm-02", 2, "web-farm", False, True, "web-farm", "t-web-farm-02"),
                   ("web-farm-03", 3, "web-farm", False, False, "web-farm", "t-web-farm-03")]
    assert lifecycle.runs(plans[1]) and not lifecycle.runs(plans[0]) and not lifecycle.runs(plans[2])
    assert lifecycle.closed_batches(site.spec_plans[0], ["web-farm-01", "web-farm-02", "web-farm-03"]) == \
        {"web-farm-01", "web-farm-02"}


def test_an_alias_bomb_in_an_encrypted_file_is_refused_not_expanded(tmp_path):
    rows = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 8))
    bomb = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + rows        # 10^8 values once expanded
    assert read(tmp_path, bomb).problems == ("f.yaml is not a YAML document",)
