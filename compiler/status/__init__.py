"""`mtvgen status`: what the sites' Plans and Migrations are doing on the cluster.

model.py turns what was read into a StatusReport (pure), view.py shows it,
health.py judges each object by the same rules as the Argo CD health checks.
The cluster is read by the caller (inventory.kube.site_runs), so this package
never touches a network.
"""

from __future__ import annotations

from typing import Callable

from ..sitemodel import Site
from .model import SiteStatus, StatusReport, site_status

# site -> (context, plans, migrations, the Providers, Hosts, maps and Hooks they stand on)
Reader = Callable[[Site], tuple[str, list[dict], list[dict], list[dict]]]


def collect(sites: list[Site], readers: list[Reader], locks: dict | None = None) -> StatusReport:
    """Every site as every reader (one per cluster context) sees it; `locks` (site name ->
    its lock) add what is planned and left to the ledger's counts."""
    out: list[SiteStatus] = []
    for read in readers:
        for site in sites:
            context, plans, migrations, setup = read(site)
            out.append(site_status(site, context, plans, migrations, setup, lock=(locks or {}).get(site.name)))
    return StatusReport(sites=tuple(out))


def settled(report: StatusReport) -> bool:
    """No run is still moving (for --watch): every run ended, or waits for a person."""
    return all(p.run_health in ("", "Healthy", "Degraded", "Suspended") for s in report.sites for p in s.plans)
