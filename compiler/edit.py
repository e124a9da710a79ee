"""Lifecycle edits from the command line (`mtvgen start|retry|cancel|done|archive|retire`).

They only edit site.yaml (and, for `done`, freeze the plan in the lock, which
needs no inventory), through ruamel.yaml's round trip so comments, key order
and quoting stay as the author wrote them: the change is a small diff a
reviewer can read. Nothing is written unless the edited spec loads cleanly.

In: a site directory, a plan name and what to do. Out: the new spec text (and
lock) written atomically, and a unified diff of the spec.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import io
import shutil
import subprocess
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

import msgspec
import yaml

from . import check, files, lifecycle, lock as lockmod, spec
from .errors import EditRefused, Location, UsageError
from . import names
from .names import batch_name, batch_of
from .plan_model import planned
from .policy import POLICY_FILE
from .sitemodel import LOCK_FILE, SPEC_FILE


class Edit(msgspec.Struct, frozen=True):
    path: Path
    diff: str
    summary: str


def _yaml() -> YAML:
    y = YAML()               # round trip: comments, order and quotes survive
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _at(node, file: str, key: str | None = None) -> Location:
    """Where `node` (or its `key`) is in the spec: ruamel keeps 0-based positions."""
    try:
        line, col = node.lc.key(key) if key is not None else (node.lc.line, node.lc.col)
        return Location(file, line + 1, col + 1)
    except (AttributeError, KeyError, TypeError):
        return Location(file)


def _plan(doc, name: str, file: str) -> CommentedMap:
    for p in doc.get("plans") or []:
        if isinstance(p, dict) and p.get("name") == name:
            return p
    names = [p.get("name") for p in doc.get("plans") or [] if isinstance(p, dict)]
    near = difflib.get_close_matches(name, names, n=1)
    raise UsageError(f"{file} has no plan '{name}'", where=_at(doc, file, "plans"),
                     fix=f"did you mean '{near[0]}'?" if near else f"plans: {', '.join(names)}")


def _batch_of(doc, name: str) -> tuple[str, int]:
    """A batch name (`web-02`, as files, Plans and status show it) -> (its plan, 2); any other
    name -> (name, 0)."""
    plans = [p for p in doc.get("plans") or [] if isinstance(p, dict)]
    if any(p.get("name") == name for p in plans):
        return name, 0
    return lifecycle.batch_of(name, {p.get("name") for p in plans if p.get("batch")})


def _comment_after(node: CommentedMap, key):
    """The comment token ruamel keeps after `key`'s value (blank lines live there too)."""
    tokens = node.ca.items.get(key)
    return tokens[2] if tokens and len(tokens) > 2 else None


def _last_leaf(mapping: CommentedMap) -> tuple[CommentedMap, object]:
    """The innermost mapping and key that print last under `mapping`."""
    target, last = mapping, list(mapping)[-1]
    while isinstance(target[last], CommentedMap) and target[last]:
        target, last = target[last], list(target[last])[-1]
    return target, last


def _tail(node):
    """Pop the comment after the last value of `node` (ruamel keeps the blank line that
    separates two plans there), so a key added at the end goes before it, not after."""
    if isinstance(node, CommentedMap) and node:
        last = list(node)[-1]
        inner = _tail(node[last])
        if inner is not None:
            return inner
        token = _comment_after(node, last)
        if token is not None:
            # the first line is the key's own end-of-line comment (or bare newline): it stays
            first, _, rest = token.value.partition("\n")
            if rest:
                moved = copy.copy(token)
                token.value, moved.value = first + "\n", "\n" + rest
                return moved
    if isinstance(node, CommentedSeq) and node:
        return _tail(node[-1])
    return None


def _put(mapping: CommentedMap, key: str, value) -> None:
    """mapping[key] = value; a new key goes last, before the blank line that followed."""
    if key in mapping:
        mapping[key] = value
        return
    token = _tail(mapping)
    mapping[key] = value
    if token is not None:
        target, last = _last_leaf(mapping)
        target.ca.items[last] = [None, None, token, None]


def _settle(node) -> None:
    """A comment after a key whose value became a mapping (`start: true` -> `start: {...}`)
    would print between the key and its new contents: move it after the last of them."""
    if isinstance(node, CommentedMap):
        for key, value in node.items():
            token = _comment_after(node, key)
            if token is not None and isinstance(value, CommentedMap) and value:
                node.ca.items[key][2] = None
                target, last = _last_leaf(value)
                target.ca.items[last] = [None, None, token, None]
            _settle(value)


def _start_block(plan: CommentedMap) -> CommentedMap:
    """`start: true` becomes a mapping, so attempts and cancels have a place."""
    start = plan.get("start")
    if start is True or start is None:
        start = CommentedMap()
        _put(plan, "start", start)
    return start


def apply(site_dir: Path, plan_name: str, action: str, *, vms: tuple[str, ...] = (), cutover: str = "",
          batches: tuple[int, ...] = (), include_canceled: bool = False, status_file: Path | None = None,
          facts: tuple[str, bytes] | None = None, retry_all: bool = False, out_dir: Path = Path("out")) -> Edit:
    """`facts`: the run's facts read elsewhere (from a cluster: where, what `status -o json` says),
    as `status_file` gives them from a saved file."""
    site_dir = Path(site_dir)
    path = site_dir / SPEC_FILE
    if not path.exists():
        raise UsageError(f"no site spec in {site_dir}", where=Location(str(path)), fix="pass a site directory")
    # the spec as it stands must load (located errors, exit 1): the edit walks a valid
    # document, not a plan list that is a number or a plan name that is a list
    site = spec.load(site_dir)
    # read once (it may be 100 MB): the checks, the freeze, the pin and the ledger use it
    lock = lockmod.read(site) if site.lock_path.exists() else None
    before = path.read_text(encoding="utf-8")
    y = _yaml()
    doc = y.load(before)
    plan_name, batch = _batch_of(doc, plan_name)
    if batch and action in ("start", "done", "retry"):
        batches = batches or (batch,)         # `start web-02` is `start web --batch 2`
    elif batch and action in ("archive", "retire"):
        raise UsageError(f"{action} applies to the whole plan '{plan_name}', not to one of its batches",
                         fix=f"`mtvgen {action} {site_dir} {plan_name}`")
    plan = _plan(doc, plan_name, str(path))
    if action == "retry" and plan.get("batch") and not batches and not retry_all:
        _one_run_or_all(site, lock, plan, plan_name, str(path))
    if action == "retire" and plan.get("archived") is True:
        _archive_delivered(plan, plan_name, site.name, out_dir, str(path))
    now = lifecycle.utc_now()
    if cutover == "now":           # the pin below takes the same instant: not "already past"
        cutover = now
    summary = ACTIONS[action](plan, vms=vms, cutover=cutover, batches=batches, file=str(path),
                              include_canceled=include_canceled)
    _settle(plan)
    out = io.StringIO()
    y.dump(doc, out)
    after = out.getvalue()
    _check(site_dir, lock, after, frozen=plan_name if action == "done" else None,   # raises: nothing written
           now=datetime.fromisoformat(now))
    # the run's facts are read before anything is written: a run that has not ended is refused
    if status_file is not None and facts is None:
        facts = (str(status_file), _read_facts(status_file))
    released, succeeded = _run_facts(facts, site_dir, plan_name) if action == "done" and facts else (None, [])
    files.atomic_write(path, after)
    if action == "done":
        edited = spec.load(site_dir)
        lock = _freeze(edited, lock, plan_name, released)
        if succeeded:
            summary += f"; {_record(edited, lock, plan_name, succeeded)}"
        if facts is None:
            summary += " (without the run's facts: pass --context or --status FILE to check the run ended)"
    elif action in ("start", "retry") and lock is not None:
        _pin(spec.load(site_dir), lock, now)
    diff = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"{path} (before)",
                                        f"{path} (after)"))
    return Edit(path, diff, summary)


def _one_run_or_all(site: spec.Site, lock, plan, plan_name: str, file: str) -> None:
    """A retry of a batched plan whose batches run apart must say which: a new attempt of
    every batch is a second Migration for a batch that may still be running."""
    if lock is None:
        return
    runs = [n for n, (p, _) in lifecycle.running(site, lock.batches).items() if p.name == plan_name]
    if len(runs) > 1:
        numbers = ", ".join(str(lifecycle.batch_number(n)) for n in runs)
        raise UsageError(f"plan '{plan_name}' runs {len(runs)} batches ({numbers}): a retry of all of them starts "
                         "a new Migration for each, also for one still running", where=_at(plan, file, "start"),
                         fix=f"`mtvgen retry {_shown(file)} {plan_name} --batch N` retries one; --all retries every one")


def _archive_delivered(plan, plan_name: str, site_name: str, out_dir: Path, file: str) -> None:
    """Retire takes the Plan out of Git. If `archived: true` is not in an earlier commit's
    out/ yet, Argo CD or Flux never applies it: the archive and the retire in one commit
    leave the Plan on the cluster unarchived, Forklift's pods and volumes with it."""
    plans = _committed_plans(out_dir / site_name / "plans")
    mine = {path: doc for path, doc in plans.items()
            if Path(path).parent.parent.name == plan_name
            or batch_of(Path(path).parent.parent.name, {plan_name})[1]}
    unarchived = sorted(path for path, doc in mine.items() if not (doc.get("spec") or {}).get("archived"))
    if not mine or unarchived:
        what = f"{unarchived[0]} does not carry `archived: true`" if unarchived else \
            f"{out_dir / site_name / 'plans'} has no Plan of it"
        raise UsageError(f"plan '{plan_name}' is archived in site.yaml, but the out/ of the last commit is not: {what}; "
                         "retired now, the archive would never reach the cluster", where=_at(plan, file, "archived"),
                         fix="build and commit the archive, let Argo CD or Flux sync it, then retire")


def _committed_plans(plans_dir: Path) -> dict[str, dict]:
    """The Plan documents under `plans_dir` as the last commit has them (what Argo CD or
    Flux delivers), or as they are on disk when out/ is not in a git repository."""
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=plans_dir.parent if plans_dir.parent.is_dir() else Path.cwd(),
                              capture_output=True, text=True)
    top = git("rev-parse", "--show-toplevel")
    listed = git("ls-tree", "-r", "--name-only", "--full-name", "HEAD", "--", str(plans_dir.resolve())) \
        if top.returncode == 0 and plans_dir.parent.is_dir() else None
    if listed is None or listed.returncode != 0 or not listed.stdout.strip():
        texts = {str(p): p.read_text(encoding="utf-8") for p in sorted(plans_dir.glob("*/plan/plan-*.yaml"))}
    else:
        texts = {path: git("show", f"HEAD:{path}").stdout for path in listed.stdout.splitlines()
                 if Path(path).parent.name == "plan" and Path(path).name.startswith("plan-")}
    docs = {path: yaml.safe_load(text) for path, text in texts.items()}
    return {path: doc for path, doc in docs.items() if isinstance(doc, dict) and doc.get("kind") == "Plan"}


@contextlib.contextmanager
def _scratch(site_dir: Path):
    """A copy of the site at the same relative path (so messages name the real file), beside
    the repository's policy, without its lock (up to 512 MiB; an edit does not change it):
    (its directory, the root to show paths from)."""
    with tempfile.TemporaryDirectory() as tmp:
        rel = site_dir if not site_dir.is_absolute() else Path(site_dir.name)
        scratch = Path(tmp) / rel
        shutil.copytree(site_dir, scratch, symlinks=True, ignore=shutil.ignore_patterns(LOCK_FILE))
        if (site_dir.parent / POLICY_FILE).exists():     # the repository's policy judges the edit too
            shutil.copy(site_dir.parent / POLICY_FILE, scratch.parent / POLICY_FILE)
        yield scratch, Path(tmp)


def _check(site_dir: Path, lock, after: str, frozen: str | None, now: datetime) -> None:
    """Load and check the edited spec from a scratch copy of the site: the real file is
    untouched until the edit loads and adds no error to the build. Errors the site had
    before the edit do not block it: a cancel must go through a broken site."""
    with _scratch(site_dir) as (scratch, root):
        site = spec.load(scratch, display_root=root)            # the spec as it is (`before`)
        had = Counter(d.code + d.message for d in _errors(site, lock, None, now))
        (scratch / SPEC_FILE).write_text(after, encoding="utf-8")
        edited = spec.load(scratch, display_root=root)
        new = [d for d in _errors(edited, lock, frozen, now) if not _take(had, d.code + d.message)]
    if new:
        raise EditRefused(new, f"the edit was not written to {site_dir / SPEC_FILE}: the build would fail as above")


def _take(counts: Counter, key: str) -> bool:
    """Counts as a multiset: one more of an error the site already had is a new one."""
    if counts[key]:
        counts[key] -= 1
        return True
    return False


def _errors(site: spec.Site, lock, frozen: str | None, now: datetime) -> list:
    """The build's errors for a loaded spec and its lock (none without a lock: the build says
    so, whatever the edit). For `done`, MTV124 (done but not frozen) on its plan is what the
    edit itself mends."""
    if lock is None:
        return []
    return [d for d in check.run(lifecycle.expand(site, lock), lock, now=now)
            if d.level == "error" and not (d.code == "MTV124" and frozen is not None
                                           and (d.plan == frozen or batch_of(d.plan, {frozen})[1] > 0))]


def _freeze(site: spec.Site, lock, plan_name: str, released: list[str] | None = None):
    """Record the done plan's digest (and its done batches') in the lock: offline. VMs the
    run did not migrate (from its facts) are released: a new plan may select them.
    Returns the lock written."""
    lock = lock if lock is not None else lockmod.read(site)      # no lock: its error says how to make one
    plan = next(p for p in site.spec_plans if p.name == plan_name)
    names = [plan_name] if plan.done else lifecycle.done_batches(plan, lock.batches.get(plan_name, []))
    for name in names:
        lock.frozen.setdefault(name, lifecycle.plan_digest(plan, lifecycle.members(lock, name)))
    if released and plan.done:
        lock.released[plan_name] = sorted(released)
    for name in names:          # its run has ended: no pin guards it any more (the freeze does)
        lock.started.pop(name, None)
    lockmod.write(site, lock)
    return lock


def _read_facts(status_file: Path) -> bytes:
    try:
        return Path(status_file).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {status_file}: {exc.strerror or exc}", where=Location(str(status_file)),
                         fix="save it with `mtvgen status SITE -o json > FILE`") from None


def _run_facts(facts: tuple[str, bytes], site_dir: Path, plan_name: str) -> list[str]:
    """From `mtvgen status -o json` (saved, or read from the cluster just now): refuse a plan
    whose run has not ended (or that has no run); else the ids of the VMs it did not migrate
    (failed or canceled)."""
    shown, data = facts
    try:
        report = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise UsageError(f"cannot read {shown}: {exc}", where=Location(shown),
                         fix="save it with `mtvgen status SITE -o json > FILE`") from None
    site_name = Path(site_dir).resolve().name
    plans = [p for s in (report.get("sites") or []) if isinstance(s, dict) and s.get("site") == site_name
             for p in s.get("plans") or [] if isinstance(p, dict)
             and (p.get("plan") == plan_name or lifecycle.batch_of(str(p.get("plan", "")), {plan_name})[1])]
    if not plans:
        raise UsageError(f"{shown} has no plan '{plan_name}' of site '{site_name}'",
                         where=Location(shown), fix=f"check the site and the context; `mtvgen status {site_dir}` "
                                                    "shows what the cluster runs")
    vms = [v for p in plans for v in p.get("vms") or [] if isinstance(v, dict)]
    busy = [v.get("name", v.get("id", "?")) for v in vms if v.get("outcome") in ("Running", "Queued")]
    if not vms or busy:
        what = f"{len(busy)} VM(s) still running or queued ({', '.join(busy[:5])})" if busy else "no run"
        raise UsageError(f"plan '{plan_name}' is not done on the cluster: {what}", where=Location(shown),
                         fix=f"wait for the run to end (or `mtvgen cancel {site_dir} {plan_name} --all`), then "
                             "read its facts anew")
    succeeded = [(p, v) for p in plans for v in p.get("vms") or [] if isinstance(v, dict)
                 and v.get("outcome") == "Succeeded"]
    return [str(v.get("id")) for v in vms if v.get("outcome") in ("Failed", "Canceled")], succeeded


def _record(site: spec.Site, lock, plan_name: str, succeeded: list[tuple[dict, dict]]) -> str:
    """The ledger (sites/ledger.yaml) gains the VMs the cluster says this run migrated,
    under the names the build gave them (plan_model.planned: overrides, Forklift's rule)."""
    from . import ledger
    source = ledger.provider_key(lock.provider)
    spec_plan = next(p for p in site.spec_plans if p.name == plan_name)
    targets = {pv.vm.id: pv.target_name for p in lifecycle.expand(site, lock).plans if p.spec_name == plan_name
               for pv in planned(p, lock)[0]}
    today = lifecycle.utc_now()[:10]
    entries = []
    for p, v in succeeded:
        vm_id = str(v.get("id"))
        entries.append(ledger.Entry(source=source, id=vm_id, name=str(v.get("name", "")),
                                    namespace=spec_plan.target_namespace, target=targets.get(vm_id, str(v.get("name", ""))),
                                    plan=f"{site.name}/{p.get('plan', plan_name)}", migration=str(p.get("migration", "")),
                                    date=today))
    added = ledger.record(site.dir.parent, entries)
    return f"{len(entries)} VM(s) recorded as moved in {site.dir.parent / ledger.LEDGER_FILE} ({added} new)"


def _pin(site: spec.Site, lock, now: str) -> None:
    """Pin what now runs in the lock (offline), as `done` freezes: from here on a re-lock
    keeps its VMs, and removing or archiving it is an error (checks/lifecycle.py)."""
    pins = lifecycle.pins(site, lock, lock, now)
    if pins != lock.started:
        lock.started = pins
        lockmod.write(site, lock)


def _shown(file: str) -> str:
    """The site directory as the hint's command takes it (the spec file's folder)."""
    return str(Path(file).parent)


def _start(plan, *, cutover, batches, file, **_):
    current = plan.get("start")
    listed = current.get("batches") if isinstance(current, dict) else None
    if current not in (None, False) and batches and listed is not None and not cutover:
        # a started plan that runs only some batches: start more of them (the same attempt)
        new = sorted(set(listed) | set(batches))
        if new == sorted(listed):
            raise UsageError(f"batch {', '.join(map(str, batches))} of plan '{plan['name']}' is already started",
                             where=_at(current, file, "batches"))
        _put(current, "batches", _flow(new))
        return f"plan {plan['name']}: batches {', '.join(map(str, new))} started"
    if current not in (None, False):
        raise UsageError(f"plan '{plan['name']}' is already started", where=_at(plan, file, "start"),
                         fix=f"`mtvgen retry {_shown(file)} {plan['name']}` starts a new attempt")
    if not cutover and not batches:
        _put(plan, "start", True)
        return f"plan {plan['name']}: started"
    start = _start_block(plan)
    if cutover:
        _put(start, "cutover", cutover)
    if batches:
        _put(start, "batches", _flow(list(batches)))
    return f"plan {plan['name']}: started" + (f", cutover {cutover}" if cutover else "")


def _retry(plan, *, cutover, file, include_canceled, batches, **_):
    if plan.get("start") in (None, False):
        raise UsageError(f"plan '{plan['name']}' was never started", where=_at(plan, file),
                         fix=f"`mtvgen start {_shown(file)} {plan['name']}` starts its first attempt")
    start = _start_block(plan)
    if batches:
        what = _retry_batches(plan, start, batches, file)
    else:
        attempt = int(start.get("attempt", 1)) + 1
        _put(start, "attempt", attempt)
        for name in start.get("attempts") or {}:       # every batch gets a new Migration
            start["attempts"][name] += 1
        what = f"attempt {attempt}"
    start.pop("resumeConversion", None)          # it belonged to the previous attempt
    held = start.get("cancel")
    # VMs the operator held back stay held back: a retry runs what failed, not what was canceled
    if include_canceled or held == "all":
        start.pop("cancel", None)
    if cutover:
        _put(start, "cutover", cutover)
    kept = f"; still held back: {', '.join(held)}" if isinstance(held, list) and not include_canceled else ""
    return f"plan {plan['name']}: {what} (runs the VMs that did not succeed{kept})"


def _retry_batches(plan, start: CommentedMap, batches: tuple[int, ...], file: str) -> str:
    """A new attempt of some batches only: `start.attempts` gives each its own, so the
    plan's other batches keep their Migration."""
    if not plan.get("batch"):
        raise UsageError(f"plan '{plan['name']}' has no batches", where=_at(plan, file),
                         fix=f"`mtvgen retry {_shown(file)} {plan['name']}` retries the plan")
    listed, done = start.get("batches"), plan.get("done")
    for n in batches:
        if listed is not None and n not in listed:
            raise UsageError(f"batch {n} of plan '{plan['name']}' was never started", where=_at(start, file, "batches"),
                             fix=f"`mtvgen start {_shown(file)} {plan['name']} --batch {n}` starts it")
        if done is True or (isinstance(done, list) and n in done):
            raise UsageError(f"batch {n} of plan '{plan['name']}' is done: it runs no more", where=_at(plan, file, "done"))
    attempts = start.get("attempts")
    if attempts is None:
        attempts = CommentedMap()
        _put(start, "attempts", attempts)
    shown = []
    for n in sorted(set(batches)):
        name = batch_name(plan["name"], n)
        attempts[name] = int(attempts.get(name, start.get("attempt", 1))) + 1
        shown.append(f"{name} attempt {attempts[name]}")
    return ", ".join(shown)


def _cancel(plan, *, vms, file, **_):
    if plan.get("start") in (None, False):
        raise UsageError(f"plan '{plan['name']}' is not started: nothing to cancel", where=_at(plan, file),
                         fix=f"check the plan name; `mtvgen start {_shown(file)} {plan['name']}` starts it")
    start = _start_block(plan)
    if not vms:
        _put(start, "cancel", "all")
        return f"plan {plan['name']}: cancel the whole run"
    current = start.get("cancel")
    listed = list(current) if isinstance(current, list) else []
    _put(start, "cancel", _flow(listed + [v for v in vms if v not in listed]))
    return f"plan {plan['name']}: cancel {', '.join(vms)}"


def _done(plan, *, batches, **_):
    if batches:
        current = plan.get("done")
        listed = list(current) if isinstance(current, list) else []
        _put(plan, "done", _flow(sorted(set(listed) | set(batches))))
        return f"plan {plan['name']}: batches {', '.join(map(str, batches))} done (frozen in the lock)"
    _put(plan, "done", True)
    return f"plan {plan['name']}: done (frozen in the lock)"


def _archive(plan, **_):
    _put(plan, "archived", True)
    return f"plan {plan['name']}: archived (Forklift cleans up what the plan left)"


def _retire(plan, **_):
    _put(plan, "retired", True)
    return f"plan {plan['name']}: retired (leaves the output; its objects stay on the cluster)"


def _flow(items: list) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


ACTIONS = {"start": _start, "retry": _retry, "cancel": _cancel, "done": _done, "archive": _archive,
           "retire": _retire}


def rename(site_dir: Path, old: str, new: str) -> Edit:
    """`mtvgen rename SITE OLD NEW`: a plan that never ran takes a new name, in site.yaml and
    in the lock, offline: its selection is the same, so nothing needs reading again. A plan
    that has run keeps its name: its Plan on the cluster is named after it (MTV126)."""
    site_dir = Path(site_dir)
    path = site_dir / SPEC_FILE
    site = spec.load(site_dir)
    lock = lockmod.read(site)
    plan = next((p for p in site.spec_plans if p.name == old), None)
    if plan is None:
        raise UsageError(f"{path} has no plan '{old}'", where=site.plans_where,
                         fix=f"plans: {', '.join(p.name for p in site.spec_plans)}")
    ran = [n for n in [old, *lock.batches.get(old, [])] if n in lock.started or n in lock.frozen]
    if plan.start is not None or plan.done or plan.done_batches or ran:
        raise UsageError(f"plan '{old}' has started: its Plan on the cluster is named after it", where=plan.where,
                         fix="keep the name; a new plan with another name can take VMs once this one is done")
    if not names.is_label(new) or any(p.name == new for p in site.spec_plans):
        raise UsageError(f"'{new}' is {'taken' if names.is_label(new) else 'not a DNS-1123 label'}", where=plan.where,
                         fix="pick a new name of lowercase letters, digits and '-'")
    before = path.read_text(encoding="utf-8")
    y = _yaml()
    doc = y.load(before)
    _plan(doc, old, str(path))["name"] = new
    out = io.StringIO()
    y.dump(doc, out)
    after = out.getvalue()
    with _scratch(site_dir) as (scratch, root):      # the renamed spec must load before anything is written
        (scratch / SPEC_FILE).write_text(after, encoding="utf-8")
        renamed = spec.load(scratch, display_root=root)
    if sorted(renamed.resolution_inputs().values()) != sorted(lock.inputs.values()):
        raise UsageError("site.yaml has other changes since the lock: a rename alone needs no source, these do",
                         where=Location(str(path)), fix="run `mtvgen lock` first, then rename")
    maps = {m.name: next(n.name for n in renamed.maps if n.owner == new and n.kind == m.kind)
            for m in site.maps if m.owner == old}
    for name in [old, *lock.batches.get(old, [])]:
        if name in lock.plans:
            lock.plans[new + name[len(old):]] = lock.plans.pop(name)
    if old in lock.batches:
        lock.batches[new] = [new + b[len(old):] for b in lock.batches.pop(old)]
    for was, now in maps.items():
        if was in lock.maps:
            lock.maps[now] = lock.maps.pop(was)
    lock.inputs = renamed.resolution_inputs()
    files.atomic_write(path, after)
    lockmod.write(site, lock)
    diff = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"{path} (before)",
                                        f"{path} (after)"))
    return Edit(path, diff, f"plan {old} is now {new} (site.yaml and the lock; nothing read again)")


def place_batches(site_dir: Path, now: datetime, wave: int | None = None) -> tuple[Edit, object]:
    """`mtvgen fit SITE`: write the waves compiler/fit.py proposes for open batches into
    `batch.waves`, offline. Nothing is written when a wave would still overflow (what
    fits nowhere is the error) or the edited spec would not load."""
    from . import fit
    site_dir = Path(site_dir)
    path = site_dir / SPEC_FILE
    site = spec.load(site_dir)
    if not site.lock_path.exists():
        raise UsageError(f"{site.lock_path} does not exist: fit plans the batches the lock holds",
                         where=Location(str(site.lock_path)), fix=f"run `mtvgen lock {_shown(str(path))}` first")
    lock = lockmod.read(site)
    stale = lockmod.staleness(site, lock)         # the build's MTV004: the first section, at its line
    if stale:
        raise UsageError(f"site.yaml changed what it selects or how it batches since the lock ({stale[0].message}): "
                         "fit would plan the old batches", where=stale[0].location,
                         fix=f"run `mtvgen lock {_shown(str(path))}` first, then fit")
    proposal = fit.propose(site, lock, now, wave)
    if proposal.unfit:
        raise EditRefused(proposal.unfit, f"nothing was written to {path}: no proposal fits every window")
    before = path.read_text(encoding="utf-8")
    y = _yaml()
    doc = y.load(before)
    for batch, number in sorted(proposal.moves.items()):
        plan = _plan(doc, proposal.parents[batch], str(path))
        if "waves" not in plan["batch"]:
            _put(plan["batch"], "waves", CommentedMap())
            if plan["batch"].fa.flow_style():
                plan["batch"]["waves"].fa.set_flow_style()
        plan["batch"]["waves"][batch] = number
    out = io.StringIO()
    y.dump(doc, out)
    after = out.getvalue()
    if after != before:
        _check(site_dir, lock, after=after, frozen=None, now=now)   # raises: nothing written
        files.atomic_write(path, after)
    diff = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"{path} (before)",
                                        f"{path} (after)"))
    moved = ", ".join(f"{b} to wave {n}" for b, n in sorted(proposal.moves.items()))
    return Edit(path, diff, f"moved {moved}" if moved else "every wave fits its window: nothing to move"), proposal

