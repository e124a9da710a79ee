"""`mtvgen summary`: a pull request in a reviewer's words, against a base that is a
directory or a git ref, with new warnings and the schedule as a Mermaid chart."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

import sitekit
from conftest import BUNDLED, NOW, ROOT, run
from sitekit import vm

SITES = BUNDLED


@pytest.fixture
def repo(tmp_path):
    shutil.copytree(ROOT / "sites", tmp_path / "sites")
    shutil.copytree(ROOT / "out", tmp_path / "out")
    return tmp_path


def summary(root, *args):
    r = run(["summary", *args, "--now", NOW], root)
    assert r.exit_code == 0, r.output
    return r.stdout


def test_every_bundled_site_against_its_committed_output():
    text = summary(ROOT, "--base", str(ROOT))
    for site in SITES:
        assert f"## Site `{site}`" in text
    assert text.count("- nothing for the plans") == len(SITES)       # the committed out/ is current
    assert "| `finance` | 1 | cold | 50 | 4,000 GiB | rhel9_64Guest (50) | not started |" in text


def test_a_wave_in_words(repo):
    base = ["--base", str(repo / "base")]
    shutil.copytree(repo / "out", repo / "base" / "out")
    run(["start", "sites/factory", "finance"], repo)
    run(["cancel", "sites/factory", "finance", "fin-017"], repo)
    text = summary(repo, "sites/factory", *base)
    assert "- plan `finance`: **started** (attempt 1, cold)" in text
    assert "- plan `finance`: **cancel** fin-017 (nothing is deleted)" in text
    assert run(["build", "--now", NOW], repo).exit_code == 0
    shutil.rmtree(repo / "base" / "out")
    shutil.copytree(repo / "out", repo / "base" / "out")
    run(["retry", "sites/factory", "finance"], repo)
    text = summary(repo, "sites/factory", *base)
    assert "- plan `finance`: **retry**, attempt 2 runs the VMs that did not succeed" in text
    assert "- plan `finance`: fin-017 stay held back (canceled in attempt 1)" in text
    assert "**cancel**" not in text.split("**Plans**")[0]


def test_vms_added_removed_and_plans_retired(repo):
    inv = yaml.safe_load((repo / "sites/factory/inventory.yaml").read_text())
    inv["vms"] = [v for v in inv["vms"] if v["name"] != "fin-003"]
    inv["vms"].append(dict(inv["vms"][0], id="vm-1999", name="fin-new", path="/DC1/vm/Finance/fin-new"))
    (repo / "sites/factory/inventory.yaml").write_text(yaml.safe_dump(inv, sort_keys=False))
    assert run(["lock", "sites/factory", "--inventory", "sites/factory/inventory.yaml"], repo).exit_code == 0
    text = summary(repo, "sites/factory", "--base", str(repo))
    assert "- plan `finance`: +1 VMs (fin-new)" in text and "- plan `finance`: −1 VMs (fin-003)" in text
    run(["done", "sites/factory", "finance"], repo)
    run(["retire", "sites/factory", "finance"], repo)
    text = summary(repo, "sites/factory", "--base", str(repo))
    assert "- plan `finance`: retired (its objects stay on the cluster)" in text
    assert "| `finance` | 1 | cold | 50 | 3,960 GiB | rhel9_64Guest (50) | retired |" in text   # fin-003 (100 GiB) left, fin-new (60) came


def test_warm_cutover_moves_and_the_schedule(repo):
    run(["retry", "sites/dc1", "databases", "--cutover", "2026-12-06T22:00:00+01:00"], repo)
    text = summary(repo, "sites/dc1", "--base", str(repo))
    assert "- plan `databases`: cutover moved from Sat 05 Dec 2026 22:00 +01:00 to Sun 06 Dec 2026 22:00 +01:00" \
        in text
    assert "```mermaid\ngantt\n" in text and "databases cutover :milestone, 2026-12-06T21:00, 0m" in text
    factory = summary(repo, "sites/factory")
    assert "    section wave 1\n    finance :w1, 2026-12-05T20:00, 480m" in factory     # 21:00 +01:00 in UTC
    assert "**What this change does**" not in factory                               # no base given


def test_new_warnings_only(tmp_path):
    d = sitekit.make(tmp_path, sitekit.BASE_SPEC)
    sitekit.lock(d)
    assert run(["build", "--now", NOW], tmp_path).exit_code == 0
    shutil.copytree(tmp_path / "sites", tmp_path / "base" / "sites")
    shutil.copytree(tmp_path / "out", tmp_path / "base" / "out")
    (d / "site.yaml").write_text(sitekit.BASE_SPEC.replace("target: app-net", "target: pod"))
    text = summary(tmp_path, "--base", str(tmp_path / "base"))
    assert "**New warnings**" in text and "`MTV036`" in text
    text = summary(tmp_path, "--base", str(tmp_path))                 # the same warning in the base: not new
    assert "New warnings" not in text


def test_a_git_ref_as_the_base(repo):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(git + ["init", "-q"], cwd=repo, check=True)
    subprocess.run(git + ["add", "-A"], cwd=repo, check=True)
    subprocess.run(git + ["commit", "-qm", "base"], cwd=repo, check=True)
    run(["start", "sites/factory", "finance"], repo)
    text = summary(repo, "sites/factory", "--base", "HEAD")
    assert "- plan `finance`: **started** (attempt 1, cold)" in text
    r = run(["summary", "sites/factory", "--base", "no-such-ref"], repo)
    assert r.exit_code == 2 and "cannot read out/ at 'no-such-ref'" in r.stderr


def test_new_plans_are_named(tmp_path):
    spec = sitekit.BASE_SPEC + "    exclude:\n      - name: beta\n"
    d = sitekit.make(tmp_path, spec, sitekit.inventory(vms=[vm("vm-1", "alpha"), vm("vm-2", "beta")]))
    sitekit.lock(d)
    assert run(["build", "--now", NOW], tmp_path).exit_code == 0
    (d / "site.yaml").write_text(spec + "  - name: second\n    select:\n      - name: beta\n")
    sitekit.lock(d)
    assert "- plan `second`: new, 1 VMs, cold" in summary(tmp_path, "--base", str(tmp_path))


@pytest.mark.parametrize("damage,words", [
    ("<<<<<<< HEAD\nkind: Plan\n=======\n", "cannot be read (ScannerError)"),           # a merge conflict
    ("kind: Plan\nmetadata: {name: x}\nspec: {vms: [1, 2]}\n", "is not the shape mtvgen writes (AttributeError"),
])
def test_a_base_that_cannot_be_read_is_an_error_naming_it(repo, damage, words):
    """The base is any committed tree: one that holds a merge conflict or a hand edit is an
    error naming the file or the site's directory (exit 1), not a crash (exit 3)."""
    shutil.copytree(repo / "out", repo / "base" / "out")
    plan = next((repo / "base" / "out" / "factory").rglob("plan-*.yaml"))
    plan.write_text(damage)
    r = run(["summary", "sites/factory", "--base", str(repo / "base"), "--now", NOW], repo)
    assert r.exit_code == 1, r.output
    assert words in r.stderr and "base" in r.stderr


def _big_site(tmp_path, plans=4, per_plan=150):
    spec = sitekit.BASE_SPEC.split("plans:\n")[0] + "plans:\n" + "".join(
        f"  - name: p{i}\n    select:\n      - folder: /DC/vm/f{i}\n" for i in range(plans))
    vms = [vm(f"vm-{i}-{j}", f"Application Server {i}-{j:03d}", folder=f"/DC/vm/f{i}")
           for i in range(plans) for j in range(per_plan)]
    d = sitekit.make(tmp_path, spec, sitekit.inventory(vms=vms))
    sitekit.lock(d)
    assert run(["build", "--now", NOW], tmp_path).exit_code == 0
    shutil.copytree(tmp_path / "sites", tmp_path / "base" / "sites")
    shutil.copytree(tmp_path / "out", tmp_path / "base" / "out")
    assert run(["start", "sites/t", "p1"], tmp_path).exit_code == 0
    return d


def test_a_big_summary_is_shortened_to_fit_a_comment(tmp_path):
    """GitHub refuses a comment over 65,536 characters; a big site's VM tables alone pass
    that. The summary keeps what the change does and the tables of the plans it touches."""
    _big_site(tmp_path)
    base = ["--base", str(tmp_path / "base")]
    full = summary(tmp_path, *base, "--max-chars", "0")
    assert len(full) > 30_000 and full.count("<details>") == 4 and "Shortened" not in full
    assert summary(tmp_path, *base) == full                       # under the default limit: all of it

    text = summary(tmp_path, *base, "--max-chars", "20000")
    assert len(text) <= 20_000
    assert "- plan `p1`: **started** (attempt 1, cold)" in text
    assert "<details><summary>p1: 150 VMs" in text and text.count("<details>") == 1
    assert "left out: the VM tables of plans this change leaves alone." in text

    text = summary(tmp_path, *base, "--max-chars", "1000")
    assert len(text) <= 1000 and "<details>" not in text and "the other VM tables" in text
    assert "- plan `p1`: **started**" in text and "| `p0` |" in text          # the rows still fit
    r = run(["summary", *base, "--max-chars", "999"], tmp_path)
    assert r.exit_code == 2 and "999 is too few to say anything; use at least 1,000, or 0 for no limit" in r.stderr


def test_sites_share_the_limit_and_a_small_one_stays_whole():
    from compiler.report.shorten import Summary, join

    small = Summary(["## Site `a`", ""])
    small.changes = ["**What this change does**", "", "- plan `x`: **started** (attempt 1, cold)", ""]
    big = Summary(["## Site `b`", ""])
    big.changes = ["**What this change does**", ""] + [f"- plan `p{i}`: new, 10 VMs, cold" for i in range(400)] + [""]
    text = join([small, big], 3000)
    assert len(text) <= 3000 and text.startswith(small.text())
    assert "- plan `p0`: new" in text and "- plan `p399`" not in text and "lines from the end" in text
    assert join([small, big]) == small.text() + "\n" + big.text()      # no limit: all of both


def test_the_security_section_survives_even_the_last_resort():
    from compiler.report.shorten import Summary
    s = Summary(["## Site `s`", ""])
    s.security = ["**Security-relevant changes**", ""] + [f"- Provider `p{i}`: url changed to a host of its own" for i in range(40)] + [""]
    s.changes = ["**What this change does**", ""] + [f"- plan `q{i}`: new, 10 VMs, cold" for i in range(300)] + [""]
    text = s.text(1000)
    assert all(line in text.splitlines() for line in s.security[:-1]) and "lines from the end" in text


def _summary(plans=3, rows=40, warnings=30, touched=("p1",), schedule=True):
    from compiler.report.shorten import Summary
    s = Summary(["## Site `s`", ""])
    s.touched = set(touched)
    s.changes = ["**What this change does**", ""] + [f"- plan `{p}`: **started** (attempt 1, cold)" for p in touched] + [""]
    s.warnings = ["**Warnings**", ""] + [f"- `MTV036` warning {i}" for i in range(warnings)] + [""]
    s.plans = ["**Plans**", "", "| plan | wave |", "|---|---|"] + [f"| `p{i}` | 1 |" for i in range(plans)] + [""]
    s.schedule = ["**Schedule** (UTC)", "", "```mermaid\ngantt\n" + "    w :a, 2026-12-05T20:00, 480m\n" * 6 + "```",
                  ""] if schedule else []
    s.details = {f"p{i}": [f"<details><summary>p{i}: {rows} VMs</summary>\n"] + [f"| vm-{i}-{j} |" for j in range(rows)]
                 + ["\n</details>"] for i in range(plans)}
    return s


def test_a_summary_is_markdown_line_by_line_and_whole_at_its_limit():
    s = _summary(plans=1, rows=1, warnings=1, touched=("p0",), schedule=False)
    full = s.text()
    assert full == ("## Site `s`\n\n**What this change does**\n\n- plan `p0`: **started** (attempt 1, cold)\n\n"
                    "**Warnings**\n\n- `MTV036` warning 0\n\n**Plans**\n\n| plan | wave |\n|---|---|\n| `p0` | 1 |\n\n"
                    "<details><summary>p0: 1 VMs</summary>\n\n| vm-0-0 |\n\n</details>\n")
    assert s.text(len(full)) == full                                 # exactly at the limit: all of it
    assert s.text(len(full) - 1) != full and len(s.text(len(full) - 1)) <= len(full) - 1


def test_each_step_runs_only_while_the_summary_is_too_long():
    s = _summary()
    after_first = s.text(len(s.text()) - 1)                          # one character over: the first step
    assert "left out: the VM tables of plans this change leaves alone. `mtvgen summary" in after_first
    assert "<details><summary>p1:" in after_first and "<details><summary>p0:" not in after_first
    again = s.text(len(after_first))                                  # it fits exactly: nothing more goes
    assert "<details><summary>p1:" in again and "the other VM tables" not in again
    assert s.text(len(after_first) - 1).count("<details>") == 0     # one less: the next step too


def test_warnings_are_cut_to_twenty_with_a_count_and_the_note_says_what_went():
    s = _summary(plans=2, rows=5, warnings=30, touched=("p0", "p1"))
    no_tables = s.text(len(s.text()) - 1)
    text = s.text(len(no_tables) - 1)
    assert [line for line in text.splitlines() if line.startswith("- `MTV036`")] == \
        [f"- `MTV036` warning {i}" for i in range(20)]
    assert "- `MTV036` warning 19\n- … and 10 more (`mtvgen check` lists them all)\n\n**Plans**" in text
    # every plan is touched: "the VM tables of plans this change leaves alone" left nothing out
    assert "left out: the other VM tables; warnings past the first 20. `mtvgen summary --max-chars 0` prints all" \
        in text
    assert "| `p0` | 1 |" in text and "**Schedule** (UTC)" in text


def test_the_note_names_a_github_comment_only_at_its_limit_and_the_last_resort_keeps_the_head():
    from compiler.report.shorten import GITHUB_COMMENT_LIMIT, Summary
    big = _summary(plans=3, rows=3000, touched=())
    text = big.text(GITHUB_COMMENT_LIMIT)
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert f"_Shortened to fit a GitHub comment ({GITHUB_COMMENT_LIMIT:,} characters); left out: " in text
    s = Summary(["## Site `s`", ""])                                 # touched left empty: no change known
    s.changes = ["**What this change does**", ""] + [f"- plan `p{i}`: new, 10 VMs, cold" for i in range(100)] + [""]
    text = s.text(1000)
    assert text.startswith("## Site `s`\n\n**What this change does**\n\n- plan `p0`: new") and len(text) <= 1000
    assert text.endswith("left out: lines from the end. `mtvgen summary --max-chars 0` prints all of it._\n")
    assert "_Shortened to fit the limit (1,000 characters)" in text


def test_the_last_resort_keeps_every_line_that_fits_and_no_more():
    from compiler.report.shorten import Summary, _note
    s = Summary(["## Site `s`", ""])
    s.changes = ["**What this change does**", ""] + [f"- plan `p{i}`: new, {i} VMs, cold" for i in range(60)] + [""]
    lines = s.head + s.changes
    just_the_head = len("\n".join(s.head + _note(["lines from the end"], 300))) + 1
    for limit in [just_the_head, *range(400, 1500, 37)]:
        note = _note(["lines from the end"], limit)
        fits = [k for k in range(len(s.head), len(lines) + 1) if len("\n".join(lines[:k] + note)) + 1 <= limit]
        assert s.text(limit) == "\n".join(lines[:max(fits)] + note) + "\n", limit
    assert s.text(400) == (       # one limit written down, not computed
        "## Site `s`\n\n**What this change does**\n\n" + "".join(f"- plan `p{i}`: new, {i} VMs, cold\n" for i in range(7))
        + "\n_Shortened to fit the limit (400 characters); left out: lines from the end. "
          "`mtvgen summary --max-chars 0` prints all of it._\n")


def test_twenty_warnings_stay_and_each_step_is_named_only_when_it_removed_something():
    s = _summary(plans=2, rows=5, warnings=20, touched=("p0", "p1"))
    over = s.text(len(s.text()) - 1)
    text = s.text(len(over) - 60)                    # past the tables: warnings stay, rows of touched plans stay
    assert text.count("- `MTV036` warning") == 20 and "warnings past" not in text
    assert "left out: the other VM tables; the schedule." in text and "\n\n_Shortened to fit the limit" in text
    s = _summary(plans=30, rows=5, warnings=0, touched=("p1",), schedule=False)
    text = next(t for t in (s.text(n) for n in range(len(s.text()), 0, -10)) if "more plans" in t)
    assert "**Plans**\n\n| plan | wave |\n|---|---|\n| `p1` | 1 |\n| … 29 more plans |  |  |  |  |  |  |\n\n" in text
    assert text.endswith("the rows of plans this change leaves alone. `mtvgen summary --max-chars 0` prints all of it._\n")


def test_sites_share_the_limit_smallest_first_whatever_their_order():
    from compiler.report.shorten import join
    big, small = _summary(plans=3, rows=50), _summary(plans=1, rows=1, warnings=0, schedule=False)
    both = big.text() + "\n" + small.text()
    assert join([big, small], len(both)) == both                   # exactly at the limit: all of both
    for limit in range(2000, 4000, 97):
        text = join([big, small], limit)                             # the big one gets what the small one leaves
        assert text == big.text(limit - len(small.text()) - 1) + "\n" + small.text() and len(text) <= limit
    text = join([big, small], 2000)                                  # written down: the small one whole, last
    assert len(text) == 1458 and "_Shortened to fit the limit (1,787 characters)" in text
    assert text.endswith("## Site `s`\n\n**What this change does**\n\n- plan `p1`: **started** (attempt 1, cold)\n\n"
                         "**Warnings**\n\n\n**Plans**\n\n| plan | wave |\n|---|---|\n| `p0` | 1 |\n\n"
                         "<details><summary>p0: 1 VMs</summary>\n\n| vm-0-0 |\n\n</details>\n")
    # a summary made without a base (no plan known to be touched) still shortens
    from compiler.report.shorten import Summary
    plain = Summary(["## Site `s`", ""])
    plain.details = {"p0": ["<details>", "| vm |" * 300, "</details>"]}
    assert "<details>" not in plain.text(1000)
