"""The command line: options in, stages run, errors mapped to exit codes.

The only place that prints diagnostics and decides exit codes:
0 clean, 1 problems found in the input, 2 usage or environment error.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from datetime import datetime
from pathlib import Path

import click

from . import __version__, diagnostics, emit, pipeline
from .errors import DiagnosticsFailed, LockError, MtvgenError, UsageError
from .tables import PROVIDER_TYPES

FORMAT = click.option("--format", "fmt", type=click.Choice(sorted(diagnostics.FORMATS)), default="text",
                      show_default=True, help="How to print diagnostics.")
SITES_DIR = click.option("--sites-dir", type=click.Path(path_type=Path), default=Path("sites"), show_default=True)
NOW = click.option("--now", "now", default=None, hidden=True, help="Pretend time (ISO 8601) for cutover checks.")


def _now(value):
    return datetime.fromisoformat(value) if value else None


NOTES = click.option("--notes", is_flag=True, help="Also print notes (info diagnostics) in text output.")


def _format(diags, fmt: str, notes: bool = True) -> str:
    return diagnostics.as_text(diags, notes) if fmt == "text" else diagnostics.FORMATS[fmt](diags)


def _emit_diags(diags, fmt: str, notes: bool = True) -> None:
    """Text goes to stderr beside progress messages; machine formats to stdout."""
    if diags:
        (sys.stdout if fmt != "text" else sys.stderr).write(_format(diags, fmt, notes))


def _collect_rarely() -> None:
    """A command builds millions of small objects that live until it ends; with the default
    thresholds the collector rescans them over and over (60% of reading a 10k-VM YAML
    snapshot, benchmarks/lock_scale.py). Collect rarely, but still collect: pyVmomi's
    object graphs do form cycles."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _run(fn):
    """The one error boundary: MtvgenError -> message + exit code (1 input, 2 environment);
    an unforeseen OSError is the environment too; anything else is a bug in mtvgen (exit 3),
    reported in one line unless MTVGEN_DEBUG=1 asks for the traceback."""
    _collect_rarely()
    try:
        return fn()
    except DiagnosticsFailed as exc:
        params = click.get_current_context().params
        _emit_diags(exc.diagnostics, params.get("fmt", "text"), params.get("notes", True))
        sys.exit(1)
    except MtvgenError as exc:
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted; nothing half-written is left behind", err=True)
        sys.exit(130)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"error: {where}{exc.strerror or exc}\n  help: check the path, permissions and free space", err=True)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        if os.environ.get("MTVGEN_DEBUG"):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc}\n  help: this is a bug in mtvgen; run again with "
                   "MTVGEN_DEBUG=1 for the traceback and report it", err=True)
        sys.exit(3)


def _site_dirs(sites: tuple[Path, ...], sites_dir: Path) -> list[Path]:
    if sites:
        return [Path(s) for s in sites]
    found = pipeline.discover(sites_dir)
    if not found:
        raise UsageError(f"no sites under {sites_dir}/", fix="run from the repository root, or pass --sites-dir")
    return found


@click.group()
@click.version_option(__version__, prog_name="mtvgen")
def main():
    """Compile site specs into validated, ordered Forklift manifests for GitOps."""


@main.command()
@click.argument("sites", nargs=-1, type=click.Path(path_type=Path))
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
        opts = pipeline.Options(strict, allow_plaintext_secrets, _now(now))
        results, failures = [], []
        for d in _site_dirs(sites, sites_dir):
            try:
                results.append(pipeline.compile_site(d, opts))
            except DiagnosticsFailed as exc:
                failures.append(exc)
        all_diags = [x for r in results for x in r.diagnostics] + [x for f in failures for x in f.diagnostics]
        clashes = pipeline.clashes(results)
        _emit_diags(all_diags + clashes, fmt, notes)
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
            if diffs:
                sys.stdout.write(diffs)
                raise MtvgenError(f"{out_dir}/ is not what a fresh build gives",
                                  fix="run `mtvgen build` and commit the result")
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
            click.echo(f"built {out_dir}/{r.name}/ ({objects} objects)", err=True)
    _run(go)


@main.command("check")
@click.argument("sites", nargs=-1, type=click.Path(path_type=Path))
@SITES_DIR
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--allow-plaintext-secrets", is_flag=True)
@FORMAT
@NOTES
@NOW
def check_cmd(sites, sites_dir, strict, allow_plaintext_secrets, fmt, notes, now):
    """Run the pre-flight checks only; print every diagnostic."""
    def go():
        opts = pipeline.Options(strict, allow_plaintext_secrets, _now(now))
        diags = []
        for d in _site_dirs(sites, sites_dir):
            try:
                diags += pipeline.check_site(d, opts)[2]
            except DiagnosticsFailed as exc:  # spec errors: still report them with the rest
                diags += exc.diagnostics
        sys.stdout.write(_format(diags, fmt, notes))
        if diagnostics.has_errors(diags):
            sys.exit(1)
    _run(go)


LIVE = [
    click.option("--inventory", "inventory_file", type=click.Path(path_type=Path),
                 help="An inventory snapshot file instead of a live source."),
    click.option("--via", type=click.Choice(["vcenter", "forklift"]), default="vcenter", show_default=True,
                 help="vSphere sites: read vCenter directly, or through the Forklift inventory service."),
    click.option("--ca-file", type=click.Path(path_type=Path, dir_okay=False),
                 help="CA certificate(s) to trust for the vCenter TLS certificate."),
    click.option("--insecure", is_flag=True, help="Do not verify the vCenter TLS certificate (warns)."),
    click.option("--credentials-file", type=click.Path(path_type=Path, dir_okay=False),
                 help="YAML with user and password (default: VSPHERE_USER / VSPHERE_PASSWORD)."),
    click.option("--kubeconfig", type=click.Path(path_type=Path, dir_okay=False),
                 help="Kubeconfig of the cluster running MTV (default: $KUBECONFIG or ~/.kube/config)."),
    click.option("--context", "kube_context", help="Kubeconfig context (reads target-cluster facts into the lock)."),
    click.option("--in-cluster", is_flag=True, help="Use the pod's service account."),
    click.option("--inventory-url", help="Forklift inventory service URL (default: its Route, else its Service)."),
    click.option("--inventory-ca-file", type=click.Path(path_type=Path, dir_okay=False),
                 help="CA for the inventory service's TLS certificate (router or service CA)."),
    click.option("--inventory-wait", type=float, default=120.0, show_default=True,
                 help="Seconds to wait while the inventory is still loading (HTTP 206)."),
    click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds per network operation."),
]


def live_options(fn):
    for option in reversed(LIVE):
        fn = option(fn)
    return fn


def _sources(ptype: str, site_spec, p: dict):
    """Pick the inventory source and, with cluster access, the target-facts reader.
    Returns (source, target_fn or None, cluster or None)."""
    cluster = None
    if p["kubeconfig"] or p["kube_context"] or p["in_cluster"]:
        from .inventory.kube import Cluster, ClusterOptions
        cluster = Cluster(ClusterOptions(str(p["kubeconfig"]) if p["kubeconfig"] else None, p["kube_context"],
                                         p["in_cluster"], p["timeout"]))
    target = None
    if cluster is not None and site_spec is not None:
        from .inventory.kube import target_facts
        target = lambda s: target_facts(cluster, s)  # noqa: E731
    if p["inventory_file"] is not None:
        from .inventory.snapshot import SnapshotFile
        return SnapshotFile(p["inventory_file"], ptype), target, cluster
    if ptype == "vsphere" and p["via"] == "vcenter":
        from .inventory import vsphere
        if p["insecure"]:
            click.echo("warning: --insecure: the vCenter TLS certificate is not verified", err=True)
        creds = vsphere.credentials(p["credentials_file"])
        url = p.get("url") or site_spec.source.url
        return vsphere.VSphereSource(url, creds, ca_file=str(p["ca_file"]) if p["ca_file"] else None,
                                     insecure=p["insecure"], timeout=p["timeout"]), target, cluster
    if cluster is None or site_spec is None:
        raise UsageError(f"{ptype} sources are read through the Forklift inventory service, which needs cluster "
                         "access and the site's Provider", fix="pass --context (or --kubeconfig / --in-cluster) "
                         "to `mtvgen lock`, or --inventory FILE")
    from .inventory.forklift import ForkliftSource
    return ForkliftSource(cluster, site_spec.mtv_namespace, site_spec.source.name, ptype, url=p["inventory_url"],
                          ca_file=str(p["inventory_ca_file"]) if p["inventory_ca_file"] else None,
                          timeout=p["timeout"], load_wait=p["inventory_wait"]), target, cluster


@main.command()
@click.argument("site", type=click.Path(path_type=Path, file_okay=False))
@live_options
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 if the lock is not current.")
def lock(site, check_only, **params):
    """Resolve SITE's names to ids and write SITE/mtvgen.lock.

    vSphere: vCenter directly (VSPHERE_USER / VSPHERE_PASSWORD or --credentials-file), or --via forklift.
    Other types: the Forklift inventory service (--context). With cluster access the lock also records
    the target cluster's facts (namespaces, storage classes, NADs, service accounts, Providers, VMs)."""
    def go():
        from . import lock as lockmod, spec

        s = spec.load(site)
        with contextlib.ExitStack() as stack:
            source, target, cluster = _sources(s.source.type, s, params)
            if cluster is not None:
                stack.callback(cluster.close)
            new, changes, diags = pipeline.lock_site(s, source, target)
        _emit_diags(diags, "text", notes=False)
        if check_only:
            current = s.lock_path.exists() and lockmod.to_text(new) == s.lock_path.read_text(encoding="utf-8")
            if not current:
                for line in changes:
                    click.echo(f"  {line}", err=True)
                raise LockError(f"{s.lock_path} does not match the inventory", fix=f"run `mtvgen lock {site}`")
            click.echo(f"{s.lock_path} is current", err=True)
            return
        lockmod.write(s, new)
        for line in changes or ["no changes"]:
            click.echo(f"  {line}", err=True)
        target_note = f", target facts from {new.target.context}" if new.target else ""
        click.echo(f"wrote {s.lock_path} ({len(new.vms)} VMs, {len(new.plans)} plans{target_note})", err=True)
    _run(go)


@main.command()
@click.argument("site", type=click.Path(path_type=Path, file_okay=False))
@click.option("--vsphere", "vsphere_url", help="vCenter URL (https://<vcenter>/sdk) to read the inventory from.")
@click.option("--type", "ptype", type=click.Choice(sorted(PROVIDER_TYPES)),
              default="vsphere", show_default=True, help="Source type (with --inventory).")
@live_options
def init(site, vsphere_url, ptype, **params):
    """Write a starter SITE/site.yaml from a live vCenter or an inventory snapshot."""
    def go():
        from . import emit, init as initmod, spec

        target = Path(site) / spec.SPEC_FILE
        if target.exists():
            raise UsageError(f"{target} already exists", fix="pick a new site directory, or edit the spec")
        if not vsphere_url and params["inventory_file"] is None:
            raise UsageError("nothing to read", fix="pass --vsphere URL or --inventory FILE")
        url = vsphere_url or ""
        source, _target, _cluster = _sources("vsphere" if vsphere_url else ptype, None, {**params, "url": url})
        try:
            inv = source.snapshot()
        finally:
            source.close()
        emit.atomic_write(target, initmod.starter_spec(Path(site).name, "vsphere" if vsphere_url else ptype, url, inv))
        click.echo(f"wrote {target}: {len(inv.vms)} VMs, {len(inv.networks)} networks, "
                   f"{len(inv.datastores)} datastores; replace the TODOs, then `mtvgen lock {site}`", err=True)
    _run(go)


def _edit(action: str, site, plan, **kw):
    def go():
        from . import edit
        result = edit.apply(site, plan, action, **kw)
        sys.stdout.write(result.diff)
        click.echo(f"{result.summary}; review and commit {result.path}, then `mtvgen build`", err=True)
    _run(go)


SITE_ARG = click.argument("site", type=click.Path(path_type=Path, file_okay=False, exists=True))
PLAN_ARG = click.argument("plan")


@main.command()
@SITE_ARG
@PLAN_ARG
@click.option("--cutover", default="", help="Warm plans: when to cut over (ISO 8601 with offset).")
@click.option("--batch", "batches", type=int, multiple=True, help="Start only this batch (repeatable).")
def start(site, plan, cutover, batches):
    """Start PLAN: its Migration is built from then on. Edits site.yaml only."""
    _edit("start", site, plan, cutover=cutover, batches=tuple(batches))


@main.command()
@SITE_ARG
@PLAN_ARG
@click.option("--cutover", default="", help="A new cutover time for the new attempt.")
def retry(site, plan, cutover):
    """Start a new attempt of PLAN: a new Migration that runs the VMs that did not succeed."""
    _edit("retry", site, plan, cutover=cutover)


@main.command()
@SITE_ARG
@PLAN_ARG
@click.argument("vms", nargs=-1)
def cancel(site, plan, vms):
    """Cancel VMS (names, ids or paths) of PLAN's running attempt, or the whole run without VMS
    (Migration spec.cancel; nothing is deleted)."""
    _edit("cancel", site, plan, vms=tuple(vms))


@main.command()
@SITE_ARG
@PLAN_ARG
@click.option("--batch", "batches", type=int, multiple=True, help="Only this batch is done (repeatable).")
def done(site, plan, batches):
    """Mark PLAN done and freeze it in the lock (offline): it stays as it ran."""
    _edit("done", site, plan, batches=tuple(batches))


@main.command()
@SITE_ARG
@PLAN_ARG
def archive(site, plan):
    """Archive PLAN (Plan spec.archived: Forklift cleans up what it left)."""
    _edit("archive", site, plan)


@main.command()
@SITE_ARG
@PLAN_ARG
def retire(site, plan):
    """Take a done PLAN out of the output; its objects stay on the cluster."""
    _edit("retire", site, plan)


@main.command()
@click.argument("sites", nargs=-1, type=click.Path(path_type=Path))
@SITES_DIR
@click.option("--kubeconfig", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--context", "contexts", multiple=True, help="Kubeconfig context; repeat for several clusters.")
@click.option("--in-cluster", is_flag=True)
@click.option("-o", "--output", type=click.Choice(["text", "json", "yaml"]), default="text", show_default=True)
@click.option("--watch", is_flag=True, help="Redraw until no run is moving (text output).")
@click.option("--interval", type=float, default=10.0, show_default=True, help="Seconds between reads with --watch.")
@click.option("--timeout", type=float, default=30.0, show_default=True)
def status(sites, sites_dir, kubeconfig, contexts, in_cluster, output, watch, interval, timeout):
    """Show what the sites' Plans and Migrations are doing: per plan and VM the phase, the
    pipeline step, disk copy progress, precopies, cutover and errors. Exit 1 when a plan is
    blocked or a run failed."""
    def go():
        import time

        from rich.console import Console
        from rich.live import Live

        from . import lifecycle, lock as lockmod, spec, status as statusmod
        from .inventory.kube import Cluster, ClusterOptions, site_runs
        from .status import view

        if watch and output != "text":
            raise UsageError("--watch draws the live view", fix="use -o json or -o yaml without --watch")
        loaded = []
        for d in _site_dirs(sites, sites_dir):
            site = spec.load(d)
            loaded.append(lifecycle.expand(site, lockmod.read(site)))
        with contextlib.ExitStack() as stack:
            readers = []
            for ctx in contexts or (None,):
                cluster = Cluster(ClusterOptions(str(kubeconfig) if kubeconfig else None, ctx, in_cluster, timeout))
                stack.callback(cluster.close)
                readers.append(lambda site, c=cluster: (c.context, *site_runs(c, site.mtv_namespace, site.name)))
            report = statusmod.collect(loaded, readers)
            if output != "text":
                sys.stdout.write(view.FORMATS[output](report))
            elif not watch:
                Console().print(view.tree(report))
            else:
                with Live(view.tree(report), console=Console(), refresh_per_second=1) as live:
                    while not statusmod.settled(report):
                        time.sleep(interval)
                        report = statusmod.collect(loaded, readers)
                        live.update(view.tree(report))
        if report.failed:
            sys.exit(1)
    _run(go)


@main.command()
@click.argument("sites", nargs=-1, type=click.Path(path_type=Path))
@SITES_DIR
@click.option("--base", help="What to compare with: a git ref (its committed out/ and sites/) or a directory.")
@NOW
def summary(sites, sites_dir, base, now):
    """Markdown for a pull request: per site what the change does, in words (plans added,
    started, retried, canceled, retired; VMs added; cutovers moved), the plans with their VMs,
    disks and guest systems, new warnings, and the schedule as a Mermaid timeline."""
    def go():
        from .report import base as basemod
        opts = pipeline.Options(now=_now(now))
        dirs = _site_dirs(sites, sites_dir)
        with contextlib.ExitStack() as stack:
            base_out = base_sites = None
            if base:
                base_out, base_sites = stack.enter_context(basemod.opened(base, Path.cwd()))
            parts = [pipeline.summarize(d, opts, base_out, base_sites) for d in dirs]
        sys.stdout.write("\n".join(parts))
    _run(go)


@main.group()
def schemas():
    """Schemas of the Forklift kinds."""


@schemas.command("pull")
@click.argument("site", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--kubeconfig", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--context", "kube_context")
@click.option("--in-cluster", is_flag=True)
@click.option("--timeout", type=float, default=30.0, show_default=True)
def schemas_pull(site, kubeconfig, kube_context, in_cluster, timeout):
    """Store the cluster's Forklift CRDs as strict JSON Schemas in SITE/schemas/;
    later builds of SITE validate against them too."""
    def go():
        from . import crdschema
        from .inventory.kube import Cluster, ClusterOptions, forklift_crds

        cluster = Cluster(ClusterOptions(str(kubeconfig) if kubeconfig else None, kube_context, in_cluster, timeout))
        try:
            crds = forklift_crds(cluster)
        finally:
            cluster.close()
        record = crdschema.store(site, crds, cluster.context)
        kinds = ", ".join(f"{k} {v['version']}" for k, v in record["kinds"].items())
        click.echo(f"wrote {Path(site) / crdschema.SCHEMA_DIR}/ from {cluster.context}: {kinds}", err=True)
    _run(go)


@main.command("health-checks")
@click.option("--format", "fmt", type=click.Choice(["argocd-cm", "openshift-gitops"]), default="argocd-cm",
              show_default=True)
def health_checks(fmt):
    """Print Argo CD health checks for the Forklift kinds and for Applications, so
    sync waves wait for what the next wave needs (apply once per Argo CD instance).

    argocd-cm: `kubectl -n argocd patch configmap argocd-cm --patch-file FILE`.
    openshift-gitops: a JSON Patch appending to spec.resourceHealthChecks:
    `oc -n openshift-gitops patch argocd openshift-gitops --type json --patch-file FILE`."""
    from .delivery import health
    sys.stdout.write(health.FORMATS[fmt]())


@main.command("checks")
@click.option("--markdown", is_flag=True, help="Print the catalog as a Markdown table.")
def checks_cmd(markdown):
    """List every check: code, severity, what it catches, how to fix."""
    if markdown:
        sys.stdout.write(diagnostics.catalog_markdown())
        return
    for c in diagnostics.CATALOG.values():
        click.echo(f"{c.code} {c.severity:<7} {c.slug:<28} {c.title}")


if __name__ == "__main__":
    main()
