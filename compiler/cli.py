"""The command line: `mtvgen build` and `mtvgen check`, the main job, live here;
the other commands in compiler/commands/ (live.py reads sources and clusters,
plans.py edits a plan's lifecycle). All of them go through commands/common.run,
the one place that prints errors and decides exit codes.
"""

from __future__ import annotations

import contextlib
import difflib
import sys
from pathlib import Path

import click

from . import __version__, diagnostics, emit, pipeline
from .commands import live, plans
from .commands.common import (FORMAT, NOTES, NOW, SITES_DIR, SiteDir, emit_diags, format_diags, parse_now, run,
                              site_dirs)
from .errors import DiagnosticsFailed, Location, MtvgenError
from .report import shorten
from .report.shorten import GITHUB_COMMENT_LIMIT


@click.group()
@click.version_option(__version__, prog_name="mtvgen")
def main():
    """Compile site specs into validated, ordered Forklift manifests for GitOps."""


@main.command()
@click.argument("sites", nargs=-1, type=SiteDir())
@SITES_DIR
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("out"), show_default=True)
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 with a diff if out/ is not current.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--allow-plaintext-secrets", is_flag=True, help="Allow credentials.plaintextFromEnv (writes secrets!).")
@FORMAT
@NOTES
@NOW
def build(sites, sites_dir, out_dir, check_only, strict, allow_plaintext_secrets, fmt, notes, now):
    """Build every site (or the given ones) into OUT/<site>/. Offline: reads only specs and locks."""
    def go():
        opts = pipeline.Options(strict, allow_plaintext_secrets, parse_now(now))
        results, failures = [], []
        for d in site_dirs(sites, sites_dir):
            try:
                results.append(pipeline.compile_site(d, opts))
            except DiagnosticsFailed as exc:
                failures.append(exc)
        all_diags = [x for r in results for x in r.diagnostics] + [x for f in failures for x in f.diagnostics]
        clashes = pipeline.clashes(results)
        emit_diags(all_diags + clashes, fmt, notes)
        if clashes:
            failures.append(clashes)
        if failures:
            raise MtvgenError(f"build failed; nothing was written ({len(failures)} site(s) with errors)",
                              fix="fix the errors above; `mtvgen check` lists them without building")
        if any(r.files for r in results) and allow_plaintext_secrets:
            click.echo("warning: --allow-plaintext-secrets: generated Secrets may hold credentials; "
                       "do not commit them", err=True)
        if check_only:
            diffs = "".join(emit.diff_tree(out_dir / r.name, r.files, f"{out_dir}/{r.name}") for r in results)
            strays = [] if sites else emit.strays(out_dir, {r.name for r in results}, sites_dir)
            if diffs:
                sys.stdout.write(diffs)
            for line in strays:
                click.echo(f"error: {line}", err=True)
            if diffs or strays:
                raise MtvgenError(f"{out_dir}/ is not what a fresh build gives",
                                  fix="run `mtvgen build` and commit the result; remove what no site writes")
            click.echo(f"{out_dir}/ is up to date ({len(results)} site(s))", err=True)
            return
        with emit.exclusive(out_dir, lambda: click.echo(f"waiting for another build of {out_dir}/ ...", err=True)):
            for r in results:
                emit.write_tree(out_dir / r.name, r.files)
            if not sites:
                for gone in emit.remove_stale(out_dir, {r.name for r in results}, sites_dir):
                    click.echo(f"removed {out_dir}/{gone}/ (its site no longer exists)", err=True)
        for r in results:
            objects = sum(1 for path in r.files if not path.endswith("kustomization.yaml"))
            # a site without `delivery:` gets no sync units and no bootstrap: say so, or the
            # README's `kubectl apply -k out/<site>/bootstrap` finds nothing and nobody knows why
            delivered = any(path.startswith(("argocd/", "flux/", "bootstrap/")) for path in r.files)
            how = "" if delivered else "; manifests only: the site has no `delivery:`"
            click.echo(f"built {out_dir}/{r.name}/ ({objects} objects{how})", err=True)
    run(go, offline=True)


@main.command("check")
@click.argument("sites", nargs=-1, type=SiteDir())
@SITES_DIR
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--allow-plaintext-secrets", is_flag=True)
@FORMAT
@NOTES
@NOW
def check_cmd(sites, sites_dir, strict, allow_plaintext_secrets, fmt, notes, now):
    """Run the pre-flight checks only; print every diagnostic."""
    def go():
        opts = pipeline.Options(strict, allow_plaintext_secrets, parse_now(now))
        diags = []
        for d in site_dirs(sites, sites_dir):
            try:
                diags += pipeline.check_site(d, opts)[2]
            except DiagnosticsFailed as exc:  # spec errors: still report them with the rest
                diags += exc.diagnostics
        sys.stdout.write(format_diags(diags, fmt, notes))
        if diagnostics.has_errors(diags):
            sys.exit(1)
    run(go, offline=True)


def _room_for_a_summary(n: int) -> int:
    if 0 < n < shorten.MIN_CHARS:       # a site's heading and the note alone take a few hundred
        raise click.BadParameter(f"{n:,} is too few to say anything; use at least {shorten.MIN_CHARS:,}, "
                                 "or 0 for no limit")
    return n


@main.command()
@click.argument("sites", nargs=-1, type=SiteDir())
@SITES_DIR
@click.option("--base", help="What to compare with: a git ref (its committed out/ and sites/) or a directory.")
@click.option("--max-chars", type=click.IntRange(min=0), default=GITHUB_COMMENT_LIMIT, show_default=True,
              callback=lambda _ctx, _param, n: _room_for_a_summary(n),
              help="Shorten to fit (a GitHub comment holds 65,536 characters); 0 for no limit.")
@NOW
def summary(sites, sites_dir, base, max_chars, now):
    """Markdown for a pull request: per site what the change does, in words (plans added,
    started, retried, canceled, retired; VMs added; cutovers moved), the plans with their VMs,
    disks and guest systems, new warnings, and the schedule as a Mermaid timeline."""
    def go():
        from .report import base as basemod
        opts = pipeline.Options(now=parse_now(now))
        dirs = site_dirs(sites, sites_dir)
        with contextlib.ExitStack() as stack:
            base_out = base_sites = None
            if base:
                base_out, base_sites = stack.enter_context(basemod.opened(base, Path.cwd()))
            parts = [pipeline.summarize(d, opts, base_out, base_sites) for d in dirs]
        sys.stdout.write(shorten.join(parts, max_chars))
    run(go, offline=True)


@main.command("health-checks")
@click.option("--format", "fmt", type=click.Choice(["argocd-cm", "openshift-gitops"]), default="argocd-cm",
              show_default=True)
@click.option("--current", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="openshift-gitops: the ArgoCD resource as it is (`oc get argocd NAME -o json`); prints a merge "
                   "patch that keeps its other checks and can be applied again.")
def health_checks(fmt, current):
    """Print Argo CD health checks for the Forklift kinds and for Applications, so
    sync waves wait for what the next wave needs (apply once per Argo CD instance).

    argocd-cm: `kubectl -n argocd patch configmap argocd-cm --patch-file FILE`.
    openshift-gitops with --current: a merge patch of spec.resourceHealthChecks, mtvgen's
    entries replaced and the others kept:
    `oc -n openshift-gitops patch argocd openshift-gitops --type merge --patch-file FILE`.
    Without --current: a JSON Patch appending to the list (the list must exist; run once)."""
    def go():
        from .delivery import health
        if current is None:
            sys.stdout.write(health.FORMATS[fmt]())
            return
        if fmt != "openshift-gitops":
            raise click.UsageError("--current goes with --format openshift-gitops")
        from . import yamlio
        doc = yamlio.plain(yamlio.load_marked(yamlio.decode(current.read_bytes(), str(current)), str(current)))
        if not isinstance(doc, dict) or doc.get("kind") != "ArgoCD":
            kind = doc.get("kind") if isinstance(doc, dict) else type(doc).__name__
            raise MtvgenError(f"{current} is not an ArgoCD resource (its kind is {kind!r})",
                              where=Location(str(current)), fix="save it with `oc get argocd NAME -o json`")
        sys.stdout.write(health.openshift_gitops_merged(doc))
    run(go, offline=True)


@main.command("checks")
@click.argument("codes", nargs=-1)
@click.option("--markdown", is_flag=True, help="Print the catalog as a Markdown table.")
def checks_cmd(codes, markdown):
    """List every check (code, severity, what it catches), or explain the CODES given
    (MTV036 or its name, pod-network-static-ips): what it catches, what it prevents, the fix."""
    if markdown:
        sys.stdout.write(diagnostics.catalog_markdown())
        return
    if not codes:
        for c in diagnostics.CATALOG.values():
            click.echo(f"{c.code} {c.severity:<7} {c.slug:<28} {c.title}")
        return
    by_slug = {c.slug: c for c in diagnostics.CATALOG.values()}
    for code in codes:
        c = diagnostics.CATALOG.get(code.upper()) or by_slug.get(code)
        if c is None:
            near = difflib.get_close_matches(code.upper(), list(diagnostics.CATALOG), n=1) or \
                difflib.get_close_matches(code, list(by_slug), n=1)
            raise click.BadParameter(f"no check {code!r}" + (f"; did you mean {near[0]}?" if near else ""),
                                     param_hint="CODES")
        acknowledged = " It guards a running plan: `acknowledge:` can take responsibility for it." \
            if c.code in diagnostics.ACKNOWLEDGEABLE else ""
        click.echo(f"{c.code} {c.slug} ({c.severity})\n  catches:  {c.title}\n"
                   f"  prevents: {c.prevents or '—'}\n  fix:      {c.fix}{acknowledged}")


for command in (live.lock, live.verify, live.init, live.inventory, live.status, live.schemas,
                plans.start, plans.retry, plans.cancel, plans.done, plans.archive, plans.retire, plans.rename, plans.fit):
    main.add_command(command)


if __name__ == "__main__":
    main()
