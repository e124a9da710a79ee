"""Commands that read a live source or cluster: lock, init, status, schemas pull.
Network clients are imported inside the commands, so a build never loads them."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from .. import pipeline
from ..errors import LockError, UsageError
from ..tables import PROVIDER_TYPES
from ..textsafe import printable
from .common import SITES_DIR, SiteDir, emit_diags, run, site_dirs

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


def _opened(stack: contextlib.ExitStack, site_spec, params: dict):
    """The site's inventory source and target-facts reader, the cluster closed with `stack`
    (the source closes itself when read: pipeline.lock_site, verify_site)."""
    source, target, cluster = _sources(site_spec.source.type, site_spec, params)
    if cluster is not None:
        stack.callback(cluster.close)
    return source, target


def _sources(ptype: str, site_spec, p: dict):
    """Pick the inventory source and, with cluster access, the target-facts reader.
    Returns (source, target_fn or None, cluster or None)."""
    cluster = None
    if p["kubeconfig"] or p["kube_context"] or p["in_cluster"]:
        from ..inventory.kube import Cluster, ClusterOptions
        cluster = Cluster(ClusterOptions(str(p["kubeconfig"]) if p["kubeconfig"] else None, p["kube_context"],
                                         p["in_cluster"], p["timeout"]))
    target = None
    if cluster is not None and site_spec is not None:
        from ..inventory.kube import target_facts
        target = lambda s: target_facts(cluster, s)  # noqa: E731
    if p["inventory_file"] is not None:
        from ..inventory.snapshot import SnapshotFile
        return SnapshotFile(p["inventory_file"], ptype), target, cluster
    if ptype == "vsphere" and p["via"] == "vcenter":
        from ..inventory import vsphere
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
    from ..inventory.forklift import ForkliftSource
    return ForkliftSource(cluster, site_spec.mtv_namespace, site_spec.source.name, ptype, url=p["inventory_url"],
                          ca_file=str(p["inventory_ca_file"]) if p["inventory_ca_file"] else None,
                          timeout=p["timeout"], load_wait=p["inventory_wait"]), target, cluster


@click.command()
@click.argument("site", type=SiteDir(must_exist=False))
@live_options
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 if the lock is not current.")
@click.option("--drop-cluster-facts", is_flag=True,
              help="Without cluster access: drop the target facts a previous `lock --context` recorded "
                   "(kept by default, marked stale).")
def lock(site, check_only, drop_cluster_facts, **params):
    """Resolve SITE's names to ids and write SITE/mtvgen.lock.

    vSphere: vCenter directly (VSPHERE_USER / VSPHERE_PASSWORD or --credentials-file), or --via forklift.
    Other types: the Forklift inventory service (--context). With cluster access the lock also records
    the target cluster's facts (namespaces, storage classes, NADs, service accounts, Providers, VMs)."""
    def go():
        from .. import lock as lockmod, spec

        s = spec.load(site)
        with contextlib.ExitStack() as stack:
            source, target = _opened(stack, s, params)
            new, changes, diags = pipeline.lock_site(s, source, target, keep_target=not drop_cluster_facts)
        emit_diags(diags, "text", notes=False)
        if check_only:
            current = s.lock_path.exists() and lockmod.to_text(new) == s.lock_path.read_text(encoding="utf-8")
            if not current:
                for line in changes:
                    click.echo(f"  {printable(line)}", err=True)      # VM names are anyone's text
                raise LockError(f"{s.lock_path} does not match the inventory", fix=f"run `mtvgen lock {site}`")
            click.echo(f"{s.lock_path} is current", err=True)
            return
        lockmod.write(s, new)
        for line in changes or ["no changes"]:
            click.echo(f"  {printable(line)}", err=True)
        target_note = (f", target facts from {new.target.context}" + (" (kept, stale)" if new.target.stale else "")
                       if new.target else "")
        click.echo(f"wrote {s.lock_path} ({len(new.vms)} VMs, {len(new.plans)} plans{target_note})", err=True)
    run(go)


@click.command()
@click.argument("site", type=SiteDir())
@click.option("--wave", type=int, help="Only the plans of this wave.")
@click.option("--plan", "plans", multiple=True, help="Only this plan or batch (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "sarif"]), default="text",
              show_default=True)
@live_options
def verify(site, wave, plans, fmt, **params):
    """The drift gate before a window: re-read the VMs of SITE's plans (of --wave, or
    --plan) from the source and compare them with the lock. Exit 1 on drift; the lock is
    never written."""
    def go():
        from .. import spec

        s = spec.load(site)
        with contextlib.ExitStack() as stack:
            source, _target = _opened(stack, s, params)
            found, vms, read = pipeline.verify_site(s, source, wave, tuple(plans))
        emit_diags(found, fmt)
        if found:
            sys.exit(1)
        click.echo(f"{vms} VM(s) of {read} plan(s) are as {s.lock_shown} has them", err=True)
    run(go)


@click.command()
@click.argument("site", type=SiteDir(must_exist=False))
@click.option("--vsphere", "vsphere_url", help="vCenter URL (https://<vcenter>/sdk) to read the inventory from.")
@click.option("--type", "ptype", type=click.Choice(sorted(PROVIDER_TYPES)),
              default="vsphere", show_default=True, help="Source type (with --inventory).")
@click.option("--secret-store", default="", help="The (Cluster)SecretStore the source credentials come from.")
@click.option("--network", "networks", multiple=True, metavar="SOURCE=TARGET",
              help="A network's target (pod, ignored, <nad>, <namespace>/<nad>); `*=TARGET` for every other; "
                   "repeatable.")
@click.option("--storage-class", default="", help="The storage class every datastore maps to.")
@click.option("--argocd", "argocd_repo", default="", metavar="REPO_URL",
              help="Deliver with Argo CD from this Git repository (the one holding out/).")
@live_options
def init(site, vsphere_url, ptype, secret_store, networks, storage_class, argocd_repo, **params):
    """Write a starter SITE/site.yaml from a live vCenter or an inventory snapshot. What the
    options do not answer is left as a TODO the schema refuses until it is filled in."""
    def go():
        from .. import files, init as initmod, spec

        target = Path(site) / spec.SPEC_FILE
        if target.exists():
            raise UsageError(f"{target} already exists", fix="pick a new site directory, or edit the spec")
        if not vsphere_url and params["inventory_file"] is None:
            raise UsageError("nothing to read", fix="pass --vsphere URL or --inventory FILE")
        bad = [n for n in networks if "=" not in n or not n.split("=", 1)[1]]
        if bad:
            raise UsageError(f"--network {bad[0]!r} is not SOURCE=TARGET", fix="e.g. --network 'VM Network=pod'")
        answers = initmod.Answers(secret_store, dict(n.split("=", 1) for n in networks), storage_class, argocd_repo)
        url = vsphere_url or ""
        # every VM's disks and NICs: which mappings the VMs need
        inv = _everything("vsphere" if vsphere_url else ptype, None, {**params, "url": url})
        text = initmod.starter_spec(Path(site).name, "vsphere" if vsphere_url else ptype, url, inv, answers)
        files.atomic_write(target, text)
        todo = text.count(initmod.TODO)
        then = f"replace the {todo} TODO(s), then" if todo else "review it, then"
        click.echo(f"wrote {target}: {len(inv.vms)} VMs, {len(inv.networks)} networks, "
                   f"{len(inv.datastores)} datastores; {then} `mtvgen lock {site}`", err=True)
    run(go)


@click.command()
@click.argument("site", type=SiteDir())
@click.argument("kind", type=click.Choice(["vms", "networks", "datastores", "hosts", "folders"]), default="vms")
@click.option("--lock", "from_lock", is_flag=True, help="Read the site's lock (offline): what it selected and uses.")
@click.option("--select", "selects", multiple=True, metavar="SELECTOR",
              help="Preview what a selector chooses, as `select:` would: `{folder: /DC1/vm/Web, powerState: "
                   "poweredOn}` (YAML); repeatable (OR).")
@click.option("-o", "--output", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True)
@click.option("--save", "save_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write what was read as an inventory snapshot (for `lock --inventory FILE`, offline CI).")
@live_options
def inventory(site, kind, from_lock, selects, output, save_file, **params):
    """List the VMs (or networks, datastores, hosts, folders) of SITE's source, with the
    facts the checks use: from the live source as `mtvgen lock` reads it, a snapshot
    (--inventory FILE) or the lock (--lock)."""
    def go():
        from .. import explore, spec as specmod
        if selects and kind != "vms":
            raise UsageError("--select chooses VMs", fix=f"drop {kind}, or drop --select")
        site_spec = specmod.load(site)
        selectors = [_selector(text, n) for n, text in enumerate(selects, 1)]   # refused before any read
        inv = _explored(site_spec, from_lock, params)
        chosen = None
        if selectors:
            from .. import resolve
            chosen, diags = resolve.preview(inv, selectors, tuple(site_spec.source.datacenters))
            emit_diags(diags, "text")
        if save_file is not None:
            from .. import files, yamlout
            from ..inventory import snapshot
            files.atomic_write(save_file, yamlout.dump(snapshot.export(inv)))
            click.echo(f"wrote {save_file}: {len(inv.vms)} VMs; `mtvgen lock {site} --inventory {save_file}` "
                       "locks from it", err=True)
        found = explore.rows(inv, kind, chosen)
        if output == "json":
            import json
            sys.stdout.write(json.dumps(found, indent=2) + "\n")
        elif output == "yaml":
            from .. import yamlout
            sys.stdout.write(yamlout.dump(found))
        else:
            _table(found, explore.COLUMNS[kind], explore.cell)
            click.echo(f"{len(found)} {kind}" + (f" of {len(inv.vms)} chosen by --select" if selects else ""),
                       err=True)
    run(go)


def _explored(site_spec, from_lock: bool, params: dict):
    """The site's inventory: its lock's, or read from its source as `lock` reads it."""
    if from_lock:
        from .. import lock as lockmod
        return lockmod.read(site_spec).inventory()
    return _everything(site_spec.source.type, site_spec, params)


def _everything(ptype: str, site_spec, params: dict):
    """Every VM of the source with all its facts (init, inventory: not a lock's first pass)."""
    source, _target, cluster = _sources(ptype, site_spec, params)
    try:
        inv = source.snapshot()
        return source.details(inv, set(inv.vms))
    finally:
        source.close()
        if cluster is not None:
            cluster.close()


def _selector(text: str, n: int):
    """A --select value as a spec selector, held to the schema's `selector`."""
    import jsonschema
    from .. import resources, yamlio
    from ..errors import Location
    from ..sitemodel import Selector
    where = Location(f"--select #{n}")
    value = yamlio.plain(yamlio.load_marked(text, where.file))
    schema = resources.schema("site.schema.json")
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator({"$ref": "#/$defs/selector", "$defs": schema["$defs"]}).iter_errors(value))
    if error is not None:
        keys = ", ".join(schema["$defs"]["selector"]["properties"])
        raise UsageError(f"--select {text!r} is not a selector: {error.message}", where=where,
                         fix=f"a YAML mapping of: {keys}")
    return Selector(value, where)


def _table(found: list[dict], columns: tuple[str, ...], cell) -> None:
    """Plain aligned columns: readable in a terminal, greppable in a pipe."""
    table = [list(columns)] + [[printable(cell(r.get(c, ""))) for c in columns] for r in found]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    for row in table:
        click.echo("  ".join(text.ljust(w) for text, w in zip(row, widths)).rstrip())


@click.command()
@click.argument("sites", nargs=-1, type=SiteDir())
@SITES_DIR
@click.option("--kubeconfig", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--context", "contexts", multiple=True, help="Kubeconfig context; repeat for several clusters.")
@click.option("--in-cluster", is_flag=True)
@click.option("-o", "--output", type=click.Choice(["text", "json", "yaml"]), default="text", show_default=True)
@click.option("--watch", is_flag=True, help="Redraw until no run is moving (text output); into a pipe, a line "
                                            "for each plan that changes.")
@click.option("--vms", "all_vms", is_flag=True, help="Text output: list every VM, not only those that need a person.")
@click.option("--plan", "plans", multiple=True, help="Only this plan (or batch, or every batch of a batched plan); "
                                                      "repeatable.")
@click.option("--interval", type=float, default=10.0, show_default=True, help="Seconds between reads with --watch.")
@click.option("--timeout", type=float, default=30.0, show_default=True)
@click.option("--record", is_flag=True, help="Write what finished runs did (per VM: MB copied, copy and conversion "
                                             "time) to SITE/throughput.yaml; the wave estimate prefers it.")
@click.option("--format", "fmt", type=click.Choice(["github", "sarif"]),
              help="Each problem on the cluster as a finding at the site.yaml line behind it (a blocked plan, the "
                   "selector of a failed VM, the map entry of a source not found), for CI annotations.")
def status(sites, sites_dir, kubeconfig, contexts, in_cluster, output, watch, all_vms, plans, interval, timeout, record,
           fmt):
    """Show what the sites' Plans and Migrations are doing: per plan and VM the phase, the
    pipeline step, disk copy progress, precopies, cutover and errors. Exit 1 when a plan is
    blocked or a run failed."""
    def go():
        import time

        from rich.console import Console
        from rich.live import Live

        from .. import lifecycle, status as statusmod
        from ..status import view

        if watch and output != "text":
            raise UsageError("--watch draws the live view", fix="use -o json or -o yaml without --watch")
        expanded = [_expanded(d) for d in site_dirs(sites, sites_dir)]
        locks = {site.name: lock for site, lock in expanded}          # read once: `--format` maps with them
        loaded = [lifecycle.only(site, plans) for site, _lock in expanded]
        if plans and not any(s.plans for s in loaded):
            raise UsageError(f"no site has a plan named {', '.join(plans)}",
                             fix="name a plan or batch as site.yaml and `mtvgen status` show it")
        with contextlib.ExitStack() as stack:
            readers = _readers(stack, kubeconfig, contexts, in_cluster, timeout)
            report = statusmod.collect(loaded, readers, locks)
            if record:
                from .. import measured
                by_name = {s.name: s for s in loaded}
                for site_status in report.sites:
                    site = by_name[site_status.site]
                    n = measured.record(site.dir, site_status)
                    click.echo(f"recorded {site.dir / measured.FILE}: {n} VM(s); review and commit it", err=True)
            if fmt:
                from ..status import spans
                from .common import format_diags
                by_site = {s.name: (s, locks[s.name]) for s in loaded}
                found = spans.diagnostics(report, by_site)
                sys.stdout.write(format_diags(found, fmt))
                if found:
                    sys.exit(1)
                return
            if output != "text":
                sys.stdout.write(view.FORMATS[output](report))
            elif not watch:
                Console().print(view.tree(report, all_vms))
            elif not sys.stdout.isatty():
                # into a pipe or a CI log: no redrawing, a timestamped line for each plan that changed
                shown: dict[str, str] = {}
                while True:
                    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                    for key, line in view.lines(report).items():
                        if shown.get(key) != line:
                            print(f"{stamp} {line}", flush=True)
                            shown[key] = line
                    if statusmod.settled(report):
                        break
                    time.sleep(interval)
                    report = statusmod.collect(loaded, readers, locks)
            else:
                with Live(view.tree(report, all_vms), console=Console(), refresh_per_second=1) as live:
                    while not statusmod.settled(report):
                        time.sleep(interval)
                        report = statusmod.collect(loaded, readers, locks)
                        live.update(view.tree(report, all_vms))
        if report.failed:
            sys.exit(1)
    run(go)


def _expanded(site_dir):
    """The site with its batches (the lock says which), and the lock."""
    from .. import lifecycle, lock as lockmod, spec
    site = spec.load(site_dir)
    lock = lockmod.read(site)
    return lifecycle.expand(site, lock), lock


def _readers(stack, kubeconfig, contexts, in_cluster, timeout) -> list:
    """One reader of a site's Plans and Migrations per context (closed with `stack`)."""
    from ..inventory.kube import Cluster, ClusterOptions, site_runs
    readers = []
    for ctx in contexts or (None,):
        cluster = Cluster(ClusterOptions(str(kubeconfig) if kubeconfig else None, ctx, in_cluster, timeout))
        stack.callback(cluster.close)
        readers.append(lambda site, c=cluster: (c.context, *site_runs(c, site.mtv_namespace, site.name)))
    return readers


def status_json(site_dir, kubeconfig, contexts, in_cluster, timeout) -> bytes:
    """What `mtvgen status SITE -o json` prints, read now: `done` takes its run facts from it."""
    from .. import status as statusmod
    from ..status import view
    with contextlib.ExitStack() as stack:
        report = statusmod.collect([_expanded(site_dir)[0]],
                                   _readers(stack, kubeconfig, contexts, in_cluster, timeout))
    return view.FORMATS["json"](report).encode()


@click.group()
def schemas():
    """Schemas of the Forklift kinds."""


@schemas.command("pull")
@click.argument("site", type=SiteDir())
@click.option("--kubeconfig", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--context", "kube_context")
@click.option("--in-cluster", is_flag=True)
@click.option("--timeout", type=float, default=30.0, show_default=True)
def schemas_pull(site, kubeconfig, kube_context, in_cluster, timeout):
    """Store the cluster's Forklift CRDs as strict JSON Schemas in SITE/schemas/;
    later builds of SITE validate against them too."""
    def go():
        from .. import crdschema
        from ..inventory.kube import Cluster, ClusterOptions, forklift_crds

        cluster = Cluster(ClusterOptions(str(kubeconfig) if kubeconfig else None, kube_context, in_cluster, timeout))
        try:
            crds = forklift_crds(cluster)
        finally:
            cluster.close()
        record = crdschema.store(site, crds, cluster.context)
        kinds = ", ".join(f"{k} {v['version']}" for k, v in record["kinds"].items())
        click.echo(f"wrote {Path(site) / crdschema.SCHEMA_DIR}/ from {cluster.context}: {kinds}", err=True)
    run(go)
