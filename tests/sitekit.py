"""A small vSphere site built in a temp dir, for tests that vary one thing.

Its inventory is a snapshot in the shape of Forklift's vSphere inventory API at
kubev2v/forklift d42511b, a subset of the fields each test needs: VMs as
pkg/controller/provider/web/vsphere/vm.go (detail=all) with NICs, disks and refs as
model/vsphere/model.go (NIC `network`/`mac`, Disk `key`/`datastore`/`capacity`/
`changeTrackingEnabled`/`mode`, Ref `kind`/`id`); hosts as web/vsphere/host.go
(`networkAdapters[].ipAddress`); networks as web/vsphere/network.go (`variant`)."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from compiler import lock as lockmod, pipeline, spec
from compiler.inventory.snapshot import SnapshotFile

BASE_SPEC = """\
apiVersion: mtvgen/v1
targetNamespace: apps
source:
  type: vsphere
  url: https://vc.example.com/sdk
  vddkImage: quay.io/example/vddk:8
  credentials:
    secret: vc-creds
networks:
  - source: VM Network
    target: app-net
  - source: App
    target: ignored
storage:
  - source: ds1
    storageClass: standard
hooks:
  - name: prep
    image: quay.io/konveyor/hook-runner
plans:
  - name: wave1
    preHook: prep
    select:
      - folder: /DC/vm/prod
"""


def vm(vm_id, name, folder="/DC/vm/prod", **kw):
    base = {"id": vm_id, "name": name, "path": f"{folder}/{name}", "host": "host-1", "powerState": "poweredOff",
            "guestId": "rhel9_64Guest", "changeTrackingEnabled": True,
            "nics": [{"network": {"kind": "Network", "id": "network-1"}, "mac": f"00:50:56:00:00:{len(vm_id):02x}"}],
            "disks": [{"key": 2000, "datastore": {"kind": "Datastore", "id": "datastore-1"}, "capacity": 1 << 30,
                       "changeTrackingEnabled": True, "mode": "persistent"}]}
    base.update(kw)
    return base


BASE_INVENTORY = {
    "provider": {"type": "vsphere", "instanceUuid": "test-uuid"},
    "clusters": [{"id": "domain-c1", "name": "C1"}],
    "hosts": [{"id": "host-1", "name": "esx1", "path": "/DC/host/C1/esx1", "cluster": "domain-c1",
               "networkAdapters": [{"ipAddress": "10.0.0.1"}]}],
    "networks": [{"id": "network-1", "name": "VM Network", "path": "/DC/network/VM Network", "variant": "Standard"},
                 {"id": "dvportgroup-2", "name": "App", "path": "/DC/network/App", "variant": "DvPortGroup"},
                 {"id": "dvs-3", "name": "Switch", "path": "/DC/network/Switch", "variant": "DvSwitch"}],
    "datastores": [{"id": "datastore-1", "name": "ds1", "path": "/DC/datastore/ds1"},
                   {"id": "datastore-2", "name": "ds2", "path": "/DC/datastore/ds2"}],
    "vms": [vm("vm-1", "alpha"),
            vm("vm-2", "beta", nics=[{"network": {"kind": "Network", "id": "network-1"}, "mac": "00:50:56:00:00:02"},
                                     {"network": {"kind": "Network", "id": "dvportgroup-2"}, "mac": "00:50:56:00:00:03"}])],
}


def inventory(**changes):
    inv = copy.deepcopy(BASE_INVENTORY)
    inv.update(changes)
    return inv


def make(root: Path, spec_text: str = BASE_SPEC, inv: dict | None = None, name: str = "t",
         files: dict | None = None) -> Path:
    d = root / "sites" / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "site.yaml").write_text(spec_text)
    (d / "inventory.yaml").write_text(yaml.safe_dump(inv or BASE_INVENTORY, sort_keys=False))
    for rel, text in (files or {}).items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(text)
    return d


def lock(site_dir: Path):
    """Lock from the site's snapshot; returns (site, diagnostics) and writes the lock."""
    site = spec.load(site_dir)
    new, _changes, diags = pipeline.lock_site(site, SnapshotFile(site_dir / "inventory.yaml", site.source.type))
    lockmod.write(site, new)
    return site, diags


def locked(root: Path, spec_text: str = BASE_SPEC, inv: dict | None = None, files: dict | None = None) -> Path:
    """A site made and locked from its snapshot: what most build tests start from."""
    d = make(root, spec_text, inv, files=files)
    lock(d)
    return d
