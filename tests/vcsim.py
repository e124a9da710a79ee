"""Start the vCenter simulator (e2e/vcsim, built by scripts/build-go) and
shape its inventory through the real vSphere API with pyvmomi."""

from __future__ import annotations

import json
import select
import ssl
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from pyVim.connect import SmartStubAdapter
from pyVmomi import SoapStubAdapter, vim

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / ".cache" / "bin" / "vcsim"
STARTUP_DEADLINE = 60    # seconds; a 10k-VM model starts in a few
USER, PASSWORD = "mtvgen", "s3cret-pw"


@dataclass
class Sim:
    url: str
    cert: str
    proc: subprocess.Popen

    @property
    def port(self) -> int:
        return urlparse(self.url).port


@contextmanager
def running(*args: str):
    if not BINARY.exists():
        raise RuntimeError("vcsim is not built: run scripts/build-go")
    proc = subprocess.Popen([str(BINARY), "-u", f"{USER}:{PASSWORD}", *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        # the simulator prints one JSON line when it listens; a hung start ends the test
        ready, _, _ = select.select([proc.stdout], [], [], STARTUP_DEADLINE)
        if not ready:
            raise RuntimeError(f"vcsim did not start within {STARTUP_DEADLINE} s")
        info = json.loads(proc.stdout.readline())
        yield Sim(info["url"], info.get("cert", ""), proc)
    finally:
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def connect(sim: Sim):
    u = urlparse(sim.url)
    if sim.cert:
        stub = SmartStubAdapter(host=u.hostname, port=u.port, sslContext=ssl.create_default_context(cafile=sim.cert))
    else:
        stub = SoapStubAdapter(url=sim.url, version="vim.version.version8")
    content = vim.ServiceInstance("ServiceInstance", stub).RetrieveContent()
    content.sessionManager.Login(USER, PASSWORD)
    return content


def wait(task, deadline: float = 60.0):
    end = time.monotonic() + deadline
    while task.info.state not in ("success", "error"):
        if time.monotonic() > end:
            raise RuntimeError(f"vcsim task {task} did not finish within {deadline} s")
        time.sleep(0.01)
    if task.info.state == "error":
        raise RuntimeError(task.info.error.msg)
    return task.info.result


def find(content, kind, name=None):
    view = content.viewManager.CreateContainerView(content.rootFolder, [kind], True)
    try:
        return [o for o in view.view if name is None or o.name == name]
    finally:
        view.DestroyView()


def folder(content, dc, path: str):
    """Create (or find) a VM folder path under datacenter `dc` ("Prod/DB"). A part is the
    name as vCenter stores it (escaped: "Team%2fA" is the folder a user named "Team/A")."""
    parent = dc.vmFolder
    for part in path.split("/"):
        found = [c for c in parent.childEntity if isinstance(c, vim.Folder) and c.name == part]
        # the simulator, as vCenter, escapes the name it is given: give it the user's name
        parent = found[0] if found else parent.CreateFolder(unquote(part))
    return parent


def create_vm(content, dc, folder_obj, name, *, network=None, datastore=None, cbt=False, guest="rhel9_64Guest",
              disks_gb=(1,), host=None):
    """A VM on `host` (default: the datacenter's first host)."""
    if host is None:
        hosts = [h for h in find(content, vim.HostSystem) if h.parent.parent.parent == dc]
        host = hosts[0] if hosts else find(content, vim.HostSystem)[0]
    pool = host.parent.resourcePool
    ds = datastore or host.datastore[0]
    devices = [vim.vm.device.VirtualDeviceSpec(operation="add", device=vim.vm.device.VirtualLsiLogicController(
        key=1000, busNumber=0, sharedBus="noSharing"))]
    for i, gb in enumerate(disks_gb):
        disk = vim.vm.device.VirtualDisk(key=2000 + i, controllerKey=1000, unitNumber=i, capacityInKB=gb << 20,
                                         backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
                                             diskMode="persistent", fileName=f"[{ds.name}]", datastore=ds))
        devices.append(vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=disk))
    if network is not None:
        if isinstance(network, vim.dvs.DistributedVirtualPortgroup):
            backing = vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
                port=vim.dvs.PortConnection(portgroupKey=network.key,
                                            switchUuid=network.config.distributedVirtualSwitch.uuid))
        else:
            backing = vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(network=network, deviceName=network.name)
        devices.append(vim.vm.device.VirtualDeviceSpec(operation="add", device=vim.vm.device.VirtualVmxnet3(
            key=4000, backing=backing)))
    spec = vim.vm.ConfigSpec(name=name, guestId=guest, files=vim.vm.FileInfo(vmPathName=f"[{ds.name}]"),
                             numCPUs=1, memoryMB=128, deviceChange=devices, changeTrackingEnabled=cbt)
    if "%" not in name:
        return wait(folder_obj.CreateVM_Task(config=spec, pool=pool, host=host))
    # an escaped name (web%2f01): the simulator cannot name disk files after it, so the VM
    # is made under another name and renamed, which the simulator stores as given
    spec.name = f"vm-{abs(hash(name)) % 10**8}"
    vm = wait(folder_obj.CreateVM_Task(config=spec, pool=pool, host=host))
    wait(vm.Rename_Task(name))
    return vm
