"""Stage 4: the lock file (sites/<site>/mtvgen.lock).

What resolution learned, so `mtvgen build` needs no network and no credentials:
the provider identity, every selected VM with the facts checks need, the
networks, storage and hosts they touch, which VMs each plan holds, which ids
each mapping entry covers, and a digest of each spec section it came from.
Written sorted, without timestamps, so a re-lock diff shows only real change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import __version__, names, yamlio
from .diagnostics import Diagnostic
from .errors import LockError, Location
from .inventory.model import VM, Datastore, Disk, Host, Inventory, Network, Nic, ProviderInfo
from .resolve import Resolution
from .spec import Site

LOCK_VERSION = 1
HEADER = ("# mtvgen lock file: what `mtvgen lock` resolved from the source inventory.\n"
          "# Generated; do not edit. Re-run `mtvgen lock {site}` after changing selections or mappings.\n")


@dataclass
class Lock:
    site: str
    provider: ProviderInfo
    inputs: dict[str, str]
    vms: dict[str, VM] = field(default_factory=dict)
    networks: dict[str, Network] = field(default_factory=dict)
    datastores: dict[str, Datastore] = field(default_factory=dict)
    hosts: dict[str, Host] = field(default_factory=dict)
    plans: dict[str, list[str]] = field(default_factory=dict)
    maps: dict[str, list[list[str]]] = field(default_factory=dict)
    host_ids: dict[str, str] = field(default_factory=dict)
    version: str = __version__


def build(site: Site, inv: Inventory, res: Resolution) -> Lock:
    """Keep just what the site uses: selected VMs and the objects they or the
    mappings touch."""
    lock = Lock(site.name, inv.provider, site.resolution_inputs(), plans=res.plans, maps=res.maps,
                host_ids=res.hosts)
    for ids in res.plans.values():
        for vm_id in ids:
            lock.vms[vm_id] = inv.vms[vm_id]
    net_ids = {n for vm in lock.vms.values() for n in vm.network_ids}
    ds_ids = {d for vm in lock.vms.values() for d in vm.datastore_ids}
    for m in site.maps:
        for ids in res.maps.get(m.name, []):
            (net_ids if m.kind == "network" else ds_ids).update(ids)
    lock.networks = {i: inv.networks[i] for i in sorted(net_ids) if i in inv.networks}
    lock.datastores = {i: inv.datastores[i] for i in sorted(ds_ids) if i in inv.datastores}
    host_ids = {vm.host for vm in lock.vms.values() if vm.host} | set(res.hosts.values())
    lock.hosts = {i: inv.hosts[i] for i in sorted(host_ids) if i in inv.hosts}
    return lock


# ------------------------------------------------------------- serialising

def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.capitalize() for w in rest)


_ALWAYS = {"name", "path"}


def _record(obj) -> dict:
    """A dataclass as a dict: camelCase keys, empty values left out."""
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if f.name == "id" or (not value and f.name not in _ALWAYS):
            continue
        if f.name in ("nics", "disks"):
            value = [_record(x) | ({"network": x.network} if isinstance(x, Nic) else {"key": x.key}) for x in value]
        elif f.name in ("attributes", "concerns"):
            value = [list(x) for x in value]
        elif isinstance(value, tuple):
            value = list(value)
        out[_camel(f.name)] = value
    return out


def _vm_record(vm: VM) -> dict:
    rec = _record(vm)
    rec["targetName"] = names.target_vm_name(vm.name, vm.id)  # what Forklift will call it
    return rec


def to_text(lock: Lock) -> str:
    doc = {
        "lockVersion": LOCK_VERSION,
        "mtvgen": lock.version,
        "site": lock.site,
        "provider": {"type": lock.provider.type, "identity": lock.provider.identity, "origin": lock.provider.origin},
        "inputs": lock.inputs,
        "plans": lock.plans,
        "maps": lock.maps,
        "esxiHosts": lock.host_ids,
        "vms": {i: _vm_record(v) for i, v in lock.vms.items()},
        "networks": {i: _record(n) for i, n in lock.networks.items()},
        "datastores": {i: _record(d) for i, d in lock.datastores.items()},
        "hosts": {i: _record(h) for i, h in lock.hosts.items()},
    }
    return HEADER.format(site=lock.site) + yamlio.dump_sorted(doc)


def _fields(cls, rec: dict, **extra):
    known = {_camel(f.name): f for f in dataclasses.fields(cls)}
    kwargs = dict(extra)
    for key, value in rec.items():
        f = known.get(key)
        if f is None:
            continue
        if isinstance(value, list):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        kwargs[f.name] = value
    return cls(**kwargs)


def _vm(vm_id: str, rec: dict) -> VM:
    rec = dict(rec)
    nics = tuple(_fields(Nic, n) for n in rec.pop("nics", []))
    disks = tuple(_fields(Disk, d) for d in rec.pop("disks", []))
    return _fields(VM, rec, id=vm_id, nics=nics, disks=disks)


def read(site: Site) -> Lock:
    path = site.lock_path
    shown = str(Path(site.file).parent / path.name)
    if not path.exists():
        raise LockError(f"site '{site.name}' has no lock file", where=Location(shown),
                        fix=f"run `mtvgen lock {site.dir}` (or `--inventory FILE` for an inventory snapshot)")
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        if doc.get("lockVersion") != LOCK_VERSION:
            raise LockError(f"lock format {doc.get('lockVersion')!r} is not {LOCK_VERSION}", where=Location(shown),
                            fix=f"re-run `mtvgen lock {site.dir}` with this mtvgen")
        p = doc["provider"]
        return Lock(
            site=doc["site"], provider=ProviderInfo(p["type"], p.get("identity") or {}, p.get("origin", "")),
            inputs=doc["inputs"], version=doc.get("mtvgen", ""),
            vms={i: _vm(i, r) for i, r in (doc.get("vms") or {}).items()},
            networks={i: _fields(Network, r, id=i) for i, r in (doc.get("networks") or {}).items()},
            datastores={i: _fields(Datastore, r, id=i) for i, r in (doc.get("datastores") or {}).items()},
            hosts={i: _fields(Host, r, id=i) for i, r in (doc.get("hosts") or {}).items()},
            plans=doc.get("plans") or {}, maps=doc.get("maps") or {}, host_ids=doc.get("esxiHosts") or {})
    except LockError:
        raise
    except (yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise LockError(f"lock file is damaged ({type(exc).__name__}: {exc})", where=Location(shown),
                        fix=f"restore it from Git or re-run `mtvgen lock {site.dir}`") from exc


def staleness(site: Site, lock: Lock) -> list[Diagnostic]:
    """One MTV004 per spec section whose resolution inputs changed since the lock."""
    diags = []
    now = site.resolution_inputs()
    if lock.provider.type != site.source.type:
        return [Diagnostic("MTV004", f"the lock is for a {lock.provider.type} source, the spec says "
                           f"{site.source.type}", site.source.where, f"run `mtvgen lock {site.dir}`")]
    for section in sorted(set(now) | set(lock.inputs)):
        if now.get(section) != lock.inputs.get(section):
            what = ("is new" if section not in lock.inputs else
                    "was removed" if section not in now else "changed")
            diags.append(Diagnostic("MTV004", f"{section} {what} since the lock was made",
                                    site.section_where(section), f"run `mtvgen lock {site.dir}` and commit the lock"))
    return diags


def write(site: Site, lock: Lock) -> None:
    """Atomic: a reader (or a crash) never sees half a lock."""
    from .emit import atomic_write  # emit owns file writing
    atomic_write(site.lock_path, to_text(lock))


# ------------------------------------------------------------- change report

def changes(old: Lock | None, new: Lock) -> list[str]:
    """What changed between two locks, in the words a reviewer uses."""
    if old is None:
        return [f"new lock: {len(new.vms)} VM(s) in {len(new.plans)} plan(s)"]
    out = []
    for vm_id in sorted(set(old.vms) | set(new.vms)):
        a, b = old.vms.get(vm_id), new.vms.get(vm_id)
        if a is None:
            out.append(f"VM added: {b.name} ({vm_id}) at {b.path}")
        elif b is None:
            out.append(f"VM removed: {a.name} ({vm_id})")
        else:
            if a.name != b.name:
                out.append(f"VM renamed: {a.name} -> {b.name} ({vm_id})")
            elif a.folder != b.folder:
                out.append(f"VM moved: {b.name} ({vm_id}) {a.folder} -> {b.folder}")
            if a.nics != b.nics:
                out.append(f"VM networks changed: {b.name} ({vm_id})")
            if a.disks != b.disks:
                out.append(f"VM disks changed: {b.name} ({vm_id})")
            if (a.power_state, a.change_tracking, a.has_snapshot) != (b.power_state, b.change_tracking, b.has_snapshot):
                out.append(f"VM state changed: {b.name} ({vm_id})")
    for plan in sorted(set(old.plans) | set(new.plans)):
        if old.plans.get(plan) != new.plans.get(plan):
            out.append(f"plan {plan}: {len(old.plans.get(plan, []))} -> {len(new.plans.get(plan, []))} VM(s)")
    for m in sorted(set(old.maps) | set(new.maps)):
        if old.maps.get(m) != new.maps.get(m):
            out.append(f"mapping {m}: resolved ids changed")
    if old.host_ids != new.host_ids:
        out.append("ESXi hosts changed")
    return out
