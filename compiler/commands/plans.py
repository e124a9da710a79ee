"""The lifecycle edits: start, retry, cancel, done, archive, retire. Each edits
site.yaml (and, for `done`, the lock) offline and prints the diff to review."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import EditRefused, MtvgenError
from .common import NOW, SiteDir, emit_diags, parse_now, run


def _edit(action: str, site, plan, **kw):
    def go():
        from .. import edit
        try:
            result = edit.apply(site, plan, action, **kw)
        except EditRefused as exc:     # the diagnostics, then one line that says nothing changed
            emit_diags(exc.diagnostics, "text")
            raise MtvgenError(exc.what, fix="mend the edit (or the spec) and run the command again") from None
        sys.stdout.write(result.diff)
        click.echo(f"{result.summary}; review and commit {result.path}, then `mtvgen build`", err=True)
    run(go)


SITE_ARG = click.argument("site", type=SiteDir())
PLAN_ARG = click.argument("plan")


@click.command()
@SITE_ARG
@PLAN_ARG
@click.option("--cutover", default="", help="Warm plans: when to cut over (ISO 8601 with offset).")
@click.option("--batch", "batches", type=int, multiple=True, help="Start only this batch (repeatable).")
def start(site, plan, cutover, batches):
    """Start PLAN: its Migration is built from then on. Edits site.yaml only."""
    _edit("start", site, plan, cutover=cutover, batches=tuple(batches))


@click.command()
@SITE_ARG
@PLAN_ARG
@click.option("--cutover", default="", help="A new cutover time for the new attempt (`now`: at once).")
@click.option("--include-canceled", is_flag=True, help="Run the VMs the last attempt canceled too.")
@click.option("--batch", "batches", type=int, multiple=True,
              help="Retry only this batch (repeatable); the plan's other batches keep their Migration.")
@click.option("--all", "everything", is_flag=True, help="A batched plan with several batches running: retry every one.")
def retry(site, plan, cutover, include_canceled, batches, everything):
    """Start a new attempt of PLAN (or of one of its batches: `web-02`, --batch 2): a new
    Migration that runs the VMs that did not succeed. VMs held back by `cancel` stay held
    back unless --include-canceled."""
    if batches and everything:
        raise click.UsageError("pass --batch or --all, not both")
    _edit("retry", site, plan, cutover=cutover, include_canceled=include_canceled, batches=tuple(batches),
          retry_all=everything)


@click.command()
@SITE_ARG
@PLAN_ARG
@click.argument("vms", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Cancel the whole run (every VM not done yet).")
def cancel(site, plan, vms, everything):
    """Cancel VMS (names, ids or paths) of PLAN's running attempt, or the whole run with --all
    (Migration spec.cancel; nothing is deleted)."""
    if not vms and not everything:
        raise click.UsageError("name the VMs to cancel, or pass --all to cancel the whole run")
    if vms and everything:
        raise click.UsageError("pass VMs or --all, not both")
    _edit("cancel", site, plan, vms=tuple(vms))


@click.command()
@SITE_ARG
@PLAN_ARG
@click.option("--batch", "batches", type=int, multiple=True, help="Only this batch is done (repeatable).")
@click.option("--status", "status_file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="The run's facts: a saved `mtvgen status SITE -o json`. Refuses a run that has not ended; "
                   "the VMs it did not migrate become free for a new plan.")
@click.option("--context", "contexts", multiple=True,
              help="Read the run's facts from this cluster context now (as --status, without the file).")
@click.option("--kubeconfig", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--in-cluster", is_flag=True, help="Read the run's facts with the pod's service account.")
@click.option("--timeout", type=float, default=30.0, show_default=True)
def done(site, plan, batches, status_file, contexts, kubeconfig, in_cluster, timeout):
    """Mark PLAN done and freeze it in the lock: it stays as it ran. With --status or
    --context, only a run that has ended (offline otherwise)."""
    if status_file and (contexts or in_cluster):
        raise click.UsageError("take the run's facts from --status FILE or from the cluster, not both")
    if not (contexts or in_cluster):
        _edit("done", site, plan, batches=tuple(batches), status_file=status_file)
        return

    def read():
        from .live import status_json
        return status_json(site, kubeconfig, contexts, in_cluster, timeout)
    where = f"the cluster ({', '.join(contexts)})" if contexts else "the cluster (in-cluster)"
    _edit("done", site, plan, batches=tuple(batches), facts=(where, run(read)))


@click.command()
@SITE_ARG
@PLAN_ARG
def archive(site, plan):
    """Archive PLAN (Plan spec.archived: Forklift cleans up what it left)."""
    _edit("archive", site, plan)


@click.command()
@SITE_ARG
@PLAN_ARG
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="Where the build writes: an archived plan retires only once its archive is committed there.")
def retire(site, plan, out_dir):
    """Take a done PLAN out of the output; its objects stay on the cluster. An archived
    plan retires only after a commit whose out/ carries the archive (else it never syncs)."""
    _edit("retire", site, plan, out_dir=out_dir)


@click.command()
@SITE_ARG
@click.argument("old")
@click.argument("new")
def rename(site, old, new):
    """Rename plan OLD to NEW, in site.yaml and the lock, offline: only a plan that never
    started (its Plan on the cluster is named after it)."""
    def go():
        from .. import edit
        result = edit.rename(site, old, new)
        sys.stdout.write(result.diff)
        click.echo(f"{result.summary}; review and commit {result.path}, then `mtvgen build`", err=True)
    run(go)


@click.command()
@SITE_ARG
@click.option("--wave", type=int, default=None, help="Only the open batches of this wave move.")
@NOW
def fit(site, wave, now):
    """Propose the wave each open batch runs in, so every wave fits its window at the
    site's `throughput:` (batch.waves in site.yaml, offline). Batches keep their VMs;
    started batches and those batch.waves already places stay."""
    def go():
        from .. import edit, lifecycle, throughput
        from datetime import datetime
        try:
            result, proposal = edit.place_batches(site, parse_now(now) or datetime.fromisoformat(lifecycle.utc_now()),
                                                  wave)
        except EditRefused as exc:
            emit_diags(exc.diagnostics, "text")
            raise MtvgenError(exc.what, fix="do as each finding says, then run `mtvgen fit` again") from None
        sys.stdout.write(result.diff)
        click.echo(f"estimates at {proposal.model}:", err=True)
        for n in sorted(set(proposal.before) | set(proposal.after)):      # waves with a run still to come
            was, will = proposal.before.get(n, 0.0), proposal.after.get(n, 0.0)
            click.echo(f"wave {n}: {throughput.hours(was)} -> {throughput.hours(will)} "
                       f"in a {throughput.hours(proposal.windows[n])} window", err=True)
        tail = f"; review and commit {result.path}, then `mtvgen build`" if result.diff else ""
        click.echo(result.summary + tail, err=True)
    run(go)
