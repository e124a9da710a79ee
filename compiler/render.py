"""Stage 6: spec + lock -> Kubernetes documents, through the Jinja2 templates.

Every value enters a template through the `q` filter (a JSON string, which is a
valid double-quoted YAML scalar), so no name can break or inject YAML. The
rendered text is parsed back and later written canonically by emit. Labels
say which site and plan an object belongs to; how it is delivered (units,
sync waves, sync options, Applications, Kustomizations) is the delivery
stage's business, not the renderer's.
"""

from __future__ import annotations

import base64
import os

import jinja2

import msgspec

from . import lifecycle, names, resources, yamlio, yamlout
from .documents import HOST_CREDENTIALS, Document, labels as object_labels
from .errors import Location, MtvgenError
from .lock import Lock
from .plan_model import PlannedVM, Planner, match_vms
from .secretfiles import SecretFile
from .sitemodel import Credentials, MapSpec, PlanSpec, Site, split_ref
from .spec import object_name
from .tables import KINDS, PLAN_SPEC_FIELDS, PLAN_TRUE_DEFAULTS, PLAN_VM_FIELDS, PLAN_VM_ONLY, PROVIDER_TYPES


class RenderOptions(msgspec.Struct, frozen=True):
    allow_plaintext: bool = False
    environ: dict = msgspec.field(default_factory=lambda: dict(os.environ))


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(resources.templates_dir())),
                             undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.filters["q"] = yamlout.json_scalar
    return env


class Renderer:
    def __init__(self, site: Site, lock: Lock, options: RenderOptions, planner: Planner):
        self.site, self.lock, self.opts, self.planner = site, lock, options, planner
        self.env = _env()
        self.docs: list[Document] = []
        self.ns = site.mtv_namespace

    # -- plumbing
    def _render(self, kind: str, where: Location, plan: str = "", field_where=None, role: str = "", **ctx) -> Document:
        spec = KINDS[kind]
        text = self.env.get_template(spec.template).render(namespace=self.ns, **ctx)
        body = yamlio.load_plain(text)
        meta = body["metadata"]
        meta["labels"] = {**object_labels(self.site.name, plan), **meta.get("labels", {})}
        doc = Document(kind, meta["name"], meta["namespace"], body, where, field_where or {}, plan, role)
        self.docs.append(doc)
        return doc

    # -- credentials
    def _passthrough(self, sf: SecretFile, role: str = "") -> str:
        """A sealed or SOPS-encrypted file, written byte for byte. Returns the Secret's name."""
        self.docs.append(Document(sf.kind, sf.name, self.ns, {}, sf.where, role=role, verbatim=sf.text))
        return sf.name

    def _secret(self, name: str, ptype: str, creds: Credentials | None, literals: dict, where: Location,
                labels: dict | None = None, role: str = "") -> str:
        """Emit what produces Secret `name` (nothing for `secret:` references). Returns the Secret name.
        The createdFor* labels make Forklift's admission webhook test the credentials on apply."""
        pt = PROVIDER_TYPES[ptype]
        labels = labels or {"createdForProviderType": ptype, "createdForResourceType": "providers"}
        if creds is not None and creds.mode == "secret":
            return creds.secret
        if creds is not None and creds.file is not None:
            return self._passthrough(creds.file, role)
        literal = {**literals, **(creds.data if creds else {})}
        if creds is None:  # a type without secret keys (OVA): the Secret carries only non-secret data
            self._render("Secret", where, role=role, name=name, secret_labels=labels, data=literal)
            return name
        secret_keys = list(pt.secret_keys)
        if pt.needs_ca and literal.get("insecureSkipVerify") != "true":
            secret_keys.append("ca.crt")
        if creds.mode == "externalSecret":
            remote = {k: creds.properties.get(k, k) for k in secret_keys}
            remote.update({k: v for k, v in creds.properties.items() if k not in literal})
            self._render("ExternalSecret", creds.where or where, role=role, name=name, refresh=creds.refresh,
                         store=creds.store,
                         store_kind=creds.store_kind, secret_labels=labels, literals=literal,
                         remote=remote, remote_key=creds.key)
            return name
        # plaintextFromEnv: checks refuse it without --allow-plaintext-secrets
        if not self.opts.allow_plaintext:
            raise MtvgenError("plaintext credentials need --allow-plaintext-secrets", where=creds.where,
                              fix="use `externalSecret:` or `secret:`, or build with --allow-plaintext-secrets")
        data = dict(literal)
        for key, var in creds.env.items():
            if var not in self.opts.environ:
                raise MtvgenError(f"environment variable {var} (for credentials key '{key}') is not set",
                                  where=creds.where, fix=f"export {var} before `mtvgen build`")
            data[key] = self.opts.environ[var]
        self._render("Secret", creds.where or where, role=role, name=name, secret_labels=labels, data=data)
        return name

    # -- kinds
    def providers(self) -> None:
        src, site = self.site.source, self.site
        if not src.external:
            literals = {"url": src.url} if src.url else {}
            if "insecureSkipVerify" in PROVIDER_TYPES[src.type].literal_keys:     # not OVA's NFS, nor EC2's API
                literals["insecureSkipVerify"] = "true" if src.insecure else "false"
            secret = self._secret(f"{src.name}-credentials", src.type, src.credentials, literals, src.where)
            settings = dict(src.settings)
            if src.type == "vsphere":
                settings["sdkEndpoint"] = src.sdk_endpoint  # else the mutating webhook adds it
                if src.vddk_image:
                    settings["vddkInitImage"] = src.vddk_image
            field_where = {("spec", key): yamlio.locate(site.raw, ["source", key])
                           for key in ("url", "settings") if key in site.raw["source"]}
            self._render("Provider", src.where, field_where=field_where, name=src.name, type=src.type, url=src.url,
                         secret=secret, settings=settings)
            for h in src.hosts:
                host_id = self.lock.host_ids[h.name]
                ip = h.ip or self.lock.hosts[host_id].ip_addresses[0]
                hsecret = secret  # reuseProviderCredentials: a deliberate choice (spec checks demand one)
                if h.credentials is not None and h.credentials.mode != "reuseProvider":
                    # the host-secret webhook wants the host id label and the provider's name and the IP as data
                    hsecret = self._secret(object_name(site.name, h.name, "host"), src.type, h.credentials,
                                           {"ip": ip, "provider": src.name}, h.where,
                                           {"createdForProviderType": src.type, "createdForResourceType": "hosts",
                                            "createdForResource": host_id}, role=HOST_CREDENTIALS)
                self._render("Host", h.where, name=object_name(site.name, h.name), host_id=host_id,
                             host_name=h.name, ip=ip, provider=src.name, secret=hsecret)
        dst = site.destination
        if not dst.external:
            literals = {"url": dst.url, "insecureSkipVerify": "true" if dst.insecure else "false"}
            secret = self._secret(f"{dst.name}-credentials", "openshift", dst.credentials, literals, dst.where)
            self._render("Provider", dst.where, name=dst.name, type="openshift", url=dst.url, secret=secret,
                         settings={})

    def maps(self) -> None:
        plans = lifecycle.live(self.site)
        used = {p.network_map.name for p in plans} | {p.storage_map.name for p in plans}
        for m in self.site.maps:
            if m.name in used:
                self._map(m)

    def _map(self, m: MapSpec) -> None:
        pairs, field_where = [], {}
        objects = self.lock.networks if m.kind == "network" else self.lock.datastores
        for entry, ids in zip(m.entries, self.lock.maps.get(m.name, []), strict=True):
            for obj_id in ids:
                field_where[("spec", "map", len(pairs))] = entry.where
                if obj_id == "pod" and self.site.source.type == "openshift":
                    source = {"type": "pod"}
                elif obj_id == "glance":
                    source = {"name": "glance"}  # OpenStack image-backed instances: a name, no inventory id
                else:
                    obj = objects[obj_id]
                    source = names.ref(obj_id, obj.name)
                    if getattr(obj, "namespace", ""):
                        source["namespace"] = obj.namespace
                pair = {"source": source}
                if m.kind == "network":
                    if entry.target in ("pod", "ignored"):
                        pair["type"] = entry.target
                    else:
                        ns, nad = split_ref(entry.target, m.namespace)
                        pair.update(type="multus", nad=nad, nad_namespace=ns)
                else:
                    pair.update(storage_class=entry.storage_class, volume_mode=entry.volume_mode,
                                access_mode=entry.access_mode, offload=entry.offload)
                pairs.append(pair)
        where = m.entries[0].where if m.entries else self.site.source.where
        self._render("NetworkMap" if m.kind == "network" else "StorageMap", where, plan=m.owner,
                     field_where=field_where, name=m.name, pairs=pairs, source_provider=self.site.source.name,
                     destination_provider=self.site.destination.name)

    def secret_files(self) -> None:
        for sf in self.site.secret_files:
            self._passthrough(sf)

    def hooks(self) -> None:
        for h in self.site.hooks.values():
            playbook = base64.b64encode(h.playbook_text).decode() if h.playbook else ""
            self._render("Hook", h.where, name=h.object_name, image=h.image, playbook=playbook,
                         service_account=h.service_account, deadline=h.deadline)

    def plans(self) -> None:
        for plan in lifecycle.live(self.site):
            vms, _ = self.planner.planned(plan)
            self._plan(plan, vms)
            if lifecycle.runs(plan):
                self._migration(plan, vms)

    def _plan(self, plan: PlanSpec, vms: list[PlannedVM]) -> None:
        o = plan.options
        profile = self.site.profile
        # true-by-default booleans are written out, where the targeted release has them
        options = {k: True for k in PLAN_TRUE_DEFAULTS if profile.has(f"Plan.spec.{k}")}
        options.update({k: v for k, v in o.items() if k in PLAN_TRUE_DEFAULTS})
        options.update({k: v for k, v in plan.vm_options.items() if k in PLAN_TRUE_DEFAULTS})
        per_vm_delete = _delete_on_fail(options.get("deleteVmOnFailMigration", False), vms)
        if per_vm_delete:
            options["deleteVmOnFailMigration"] = False
        options.update({k: o[k] for k in PLAN_SPEC_FIELDS if k in o})
        options.update({k: plan.vm_options[k] for k in PLAN_SPEC_FIELDS if k in plan.vm_options})
        if "customizationScripts" in options:      # a ConfigMap: <name> in the MTV namespace, or <ns>/<name>
            ns, name = split_ref(options["customizationScripts"], self.ns)
            options["customizationScripts"] = {"name": name, "namespace": ns}
        transfer = None
        if plan.transfer_network:
            ns, name = plan.transfer_network
            transfer = {"name": name, "namespace": ns}
        rows, field_where = [], {("spec",): plan.where, ("spec", "type"): plan.option_where("type"),
                                 ("spec", "warm"): plan.option_where("type")}
        for key in options:
            field_where[("spec", key)] = plan.option_where(key)
        for i, p in enumerate(vms):
            rows.append(self._vm_row(p, bool(per_vm_delete and per_vm_delete[p.vm.id])))
            field_where[("spec", "vms", i)] = p.where
        doc = self._render("Plan", plan.where, plan=plan.name, field_where=field_where, name=plan.object_name,
                           description=o.get("description", ""), source_provider=self.site.source.name,
                           destination_provider=self.site.destination.name, network_map=plan.network_map.name,
                           storage_map=plan.storage_map.name, target_namespace=plan.target_namespace,
                           type=plan.type, warm_only=not profile.has("Plan.spec.type"),
                           transfer_network=transfer, options=options)
        doc.body["spec"]["vms"] = rows       # as data: see templates/plan.yaml.j2

    def _vm_row(self, p: PlannedVM, delete_on_fail: bool) -> dict:
        """One entry of the Plan's spec.vms: id and name, then what this VM has beyond the
        plan (its target name, VM-only fields, what its override sets), hooks, LUKS."""
        fields = {}
        if p.explicit_target or p.target_name != p.vm.name:
            fields["targetName"] = p.target_name
        # without an override only the VM-only fields can be set: the rest are plan-wide
        for key in PLAN_VM_FIELDS if p.override else PLAN_VM_ONLY:
            if key in p.options and (key in PLAN_VM_ONLY or key in p.override.options):
                fields[key] = p.options[key]
        fields.pop("deleteVmOnFailMigration", None)
        if delete_on_fail:
            fields["deleteVmOnFailMigration"] = True
        if self.site.source.type == "openshift":
            fields["namespace"] = p.vm.namespace
        # the order Jinja's dictsort gives the plan-level options: case-insensitive
        row = names.ref(p.vm.id, p.vm.name)
        row.update(sorted(fields.items(), key=_lower_key) if len(fields) > 1 else fields)
        if p.options.get("preHook") or p.options.get("postHook"):
            row["hooks"] = [{"step": step, "hook": {"name": self.site.hooks[p.options[key]].object_name,
                                                    "namespace": self.ns}}
                            for key, step in (("preHook", "PreHook"), ("postHook", "PostHook")) if p.options.get(key)]
        if p.options.get("luksSecret"):
            row["luks"] = {"name": p.options["luksSecret"], "namespace": self.ns}
        return row

    def _migration(self, plan: PlanSpec, vms: list[PlannedVM]) -> None:
        start = plan.start
        per_vm = []
        for vm_name, cutover, _where in start.vm_cutover:
            hits = match_vms(vm_name, [p.vm for p in vms])
            if len(hits) == 1:
                per_vm.append({"id": hits[0].id, "cutover": cutover})
        cancel = [names.ref(p.vm.id, p.vm.name) for p in vms] if start.cancel_all else \
            [names.ref(v.id, v.name) for text, _w in start.cancel for v in match_vms(text, [p.vm for p in vms])[:1]]
        field_where = {("spec", "vmCutover", i): where for i, (_vm, _t, where) in enumerate(start.vm_cutover)}
        if start.vm_cutover:
            field_where[("spec", "vmCutover")] = start.vm_cutover[0][2]
        self._render("Migration", start.where, plan=plan.name, field_where=field_where,
                     name=f"{plan.object_name}-{start.attempt}",
                     plan_name=plan.object_name, cutover=start.cutover, vm_cutover=per_vm, cancel=cancel,
                     resume_conversion=start.resume_conversion)


def _lower_key(item: tuple[str, object]) -> str:
    return item[0].lower()


def _delete_on_fail(plan_value: bool, vms: list[PlannedVM]) -> dict[str, bool] | None:
    """Forklift ORs the plan-level deleteVmOnFailMigration with the VM's, so a VM's `false`
    under a plan-level `true` would do nothing. When the VMs differ, the plan-level flag is
    written false and each VM to be deleted on failure gets `true`: the same outcome per VM
    as the spec says. Returns VM id -> value, or None when all VMs agree."""
    values = {p.vm.id: p.options.get("deleteVmOnFailMigration", plan_value) for p in vms}
    return values if len(set(values.values())) > 1 else None


def render(site: Site, lock: Lock, options: RenderOptions | None = None,
           planner: Planner | None = None) -> list[Document]:
    """All documents of a site, in apply order (sync wave, then kind, then name)."""
    r = Renderer(site, lock, options or RenderOptions(), planner or Planner(lock))
    r.providers()
    r.secret_files()
    r.maps()
    r.hooks()
    r.plans()
    order = list(KINDS)
    return sorted(r.docs, key=lambda d: (KINDS[d.kind].wave, order.index(d.kind), d.name))
