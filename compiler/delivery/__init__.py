"""Stage 7, between render and validate: lay the rendered documents out in
sync units and add what delivers them (Argo CD Applications, Flux
Kustomizations), so a failing, canceled, blocked or waiting plan never holds
up the site's shared objects or another plan.

In: the site and the rendered documents. Out: a Bundle, every document placed
in a directory under out/<site>/, and each directory's kustomization.yaml.

    out/<site>/kustomization.yaml        everything, for people who apply by hand
    out/<site>/shared/                   credentials, Providers, site maps, hooks
    out/<site>/hosts/                    ESXi Hosts and their credentials
    out/<site>/plans/<plan>/plan/        the plan's own maps and the Plan
    out/<site>/plans/<plan>/run/         its Migrations (once it is started)
    out/<site>/argocd/, flux/            Applications / Kustomizations, one per unit
    out/<site>/bootstrap/                the root Application / Kustomization: apply once
"""

from __future__ import annotations


import msgspec

from .. import lifecycle
from ..documents import Document
from ..sitemodel import Site
from . import argocd, flux
from .units import Unit, plan_dir, split


class Bundle(msgspec.Struct, frozen=True, kw_only=True):
    units: tuple[Unit, ...]
    placed: tuple[tuple[str, Document], ...]          # (directory, document), each directory in apply order
    indexes: dict                                     # directory -> resources of its kustomization.yaml

    @property
    def documents(self) -> list[Document]:
        return [doc for _dir, doc in self.placed]


def deliver(site: Site, docs: list[Document]) -> Bundle:
    units = split(docs, [p.name for p in lifecycle.live(site)])
    for doc in docs:
        if doc.verbatim is None:   # encrypted files are written byte for byte
            argocd.annotate(doc)
            flux.annotate(doc)
    placed = [(u.path, doc) for u in units for doc in u.docs]
    indexes = {u.path: [doc.filename for doc in u.docs] for u in units}
    top = [u.path for u in units if not u.plan]
    for plan in dict.fromkeys(u.plan for u in units if u.plan):
        indexes[plan_dir(plan)] = [u.path.rsplit("/", 1)[1] for u in units if u.plan == plan]
        top.append(plan_dir(plan))
    indexes[""] = top
    boot: list[Document] = []
    for tool, directory in ((argocd, "argocd"), (flux, "flux")):
        configured = site.delivery is not None and getattr(site.delivery, directory) is not None
        if configured:
            children, root = tool.documents(site, units)
            placed += [(directory, d) for d in children]
            indexes[directory] = [d.filename for d in children]
            boot += root
    if boot:
        placed += [("bootstrap", d) for d in boot]
        indexes["bootstrap"] = [d.filename for d in boot]
    return Bundle(units=tuple(units), placed=tuple(placed), indexes=indexes)
