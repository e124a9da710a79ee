"""The Document: one Kubernetes object on its way from the renderer through
delivery and validation to emit. Shared by those stages so none of them has to
import another just for the type."""

from __future__ import annotations


import msgspec

from .errors import Location
from .tables import MANAGED_BY, PLAN_LABEL, SITE_LABEL

HOST_CREDENTIALS = "host-credentials"   # Document.role of an ESXi host's Secret (delivered with the Hosts)


def labels(site: str, plan: str = "") -> dict[str, str]:
    """The labels on every object mtvgen writes: who manages it, its site, its plan."""
    return {**MANAGED_BY, SITE_LABEL: site, **({PLAN_LABEL: plan} if plan else {})}


class Document(msgspec.Struct):
    kind: str
    name: str
    namespace: str
    body: dict
    where: Location                                   # the spec line behind the object
    field_where: dict = msgspec.field(default_factory=dict)   # path prefix (tuple) -> spec location
    plan: str = ""                                    # the plan it belongs to ("" = shared by the site)
    role: str = ""                                    # what it is for, when the kind alone does not say (host credentials)
    verbatim: str | None = None                       # text to write as is (sealed or SOPS-encrypted files)

    @property
    def filename(self) -> str:
        return f"{self.kind.lower()}-{self.name}.yaml"

    def where_for(self, path) -> Location:
        path = tuple(path)
        for n in range(len(path), 0, -1):
            if path[:n] in self.field_where:
                return self.field_where[path[:n]]
        return self.where
