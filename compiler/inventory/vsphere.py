"""vSphere inventory straight from vCenter, through pyvmomi.

Forklift's vSphere ids are vCenter moRefs (vm-123, network-7, dvportgroup-13,
datastore-11, host-21), so names resolve before any Provider exists.

Round trips grow with pages of objects, never with objects: one ContainerView
and one paged PropertyCollector retrieval (RetrievePropertiesEx, then
ContinueRetrievePropertiesEx) reads the light facts of every object; a second
paged retrieval reads the heavy ones (devices, disks, guest networks) for the
selected VMs only. Parsing pyvmomi's XML is where client time goes, so nothing
is read that selection or the checks do not use. Reading properties one object
at a time is also what makes the Debian vcsim drop connections; the
PropertyCollector path never does.

Every failure is translated here into compiler.errors; pyvmomi, ssl and socket
exceptions never leave this module. What the properties read become (records,
paths, decoded names) is vsphere_records.py.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import ssl
import sys
import time
from pathlib import Path

import msgspec
import yaml
from pyVim.connect import SmartStubAdapter
from pyVmomi import SoapStubAdapter, vim, vmodl

from ..errors import (AuthError, ConnectError, InventoryError, Location, PermissionDenied, TimeoutError_,
                      TLSError, UsageError)
from ..urls import http_url
from .model import Inventory, ProviderInfo
from .vsphere_records import build, is_ghost, paths, unescaped, vm_facts, with_details

PC = vmodl.query.PropertyCollector
PLAIN_HTTP_VERSION = "vim.version.v8_0_3_0"  # no version discovery over plain HTTP in pyvmomi; vcsim speaks 8.0.3

# First pass, for every object: enough to build paths and to resolve names.
LIGHT = {
    vim.Folder: ["name", "parent"],
    vim.Datacenter: ["name", "parent"],
    vim.ComputeResource: ["name", "parent"],
    vim.HostSystem: ["name", "parent", "runtime.inMaintenanceMode", "config.network.vnic"],
    vim.Network: ["name", "parent"],
    vim.dvs.DistributedVirtualPortgroup: ["key"],
    vim.OpaqueNetwork: ["summary.opaqueNetworkId"],
    vim.DistributedVirtualSwitch: ["name", "parent"],
    vim.Datastore: ["name", "parent"],
    vim.ResourcePool: ["name", "parent"],
    vim.VirtualMachine: ["name", "parent", "config.template"],
}
# ... plus, for every VM, what the site's selectors read (pyVmomi's parsing is most of
# a live lock: name + parent for 10k VMs costs a quarter of the nine properties).
VM_SELECTED_BY = {"host": ["runtime.host"], "cluster": ["runtime.host"], "powerState": ["runtime.powerState"],
                  "guestId": ["config.guestId"], "firmware": ["config.firmware"], "attributes": ["customValue"],
                  "cpuCount": ["config.hardware.numCPU"], "memoryMiB": ["config.hardware.memoryMB"]}
# `where:` facts that only the second pass reads (devices, snapshots, guest): a site whose
# selectors use one gets the second pass for every VM before it selects
DETAIL_FACTS = frozenset({"guestName", "diskCount", "diskGiB", "datastores", "networks", "ipAddresses", "hasSnapshot",
                          "changeTracking"})
# Second pass, for the selected VMs only: all of the above and the heavy facts.
HEAVY = ["runtime.host", "runtime.powerState", "config.guestId", "config.firmware", "customValue",
         "config.hardware.numCPU", "config.hardware.memoryMB",
         "config.hardware.device", "config.changeTrackingEnabled", "snapshot", "config.uuid", "config.instanceUuid",
         "config.cpuHotAddEnabled", "config.cpuHotRemoveEnabled", "config.memoryHotAddEnabled",
         "guest.toolsStatus", "guest.net", "guest.ipAddress", "guest.guestFullName"]


class Credentials(msgspec.Struct, frozen=True):
    user: str
    password: str

    def __repr__(self) -> str:      # never the password, should one reach a log or a traceback
        return f"Credentials(user={self.user!r})"


def credentials(file: Path | None = None, environ=os.environ) -> Credentials:
    """From a YAML file ({user, password}) or VSPHERE_USER / VSPHERE_PASSWORD.
    Never from the command line, never logged."""
    if file is not None:
        try:
            # BaseLoader: every value a string, as written (`0012345` is no YAML 1.1 octal 5349)
            data = yaml.load(Path(file).read_text(encoding="utf-8"), Loader=yaml.BaseLoader) or {}
        except OSError as exc:
            raise UsageError(f"cannot read credentials file: {exc.strerror}", where=Location(str(file)),
                             fix="the file holds `user:` and `password:`") from None
        except yaml.YAMLError as exc:   # its text quotes the line, which may be the password's
            mark = getattr(exc, "problem_mark", None)
            raise UsageError("credentials file is not valid YAML", fix="the file holds `user:` and `password:`",
                             where=Location(str(file), mark.line + 1 if mark else 0)) from None
        if not isinstance(data, dict) or not data.get("user") or not data.get("password"):
            raise UsageError("credentials file needs `user:` and `password:`", where=Location(str(file)),
                             fix="write both keys; keep the file out of Git")
        return Credentials(str(data["user"]), str(data["password"]))
    user, password = environ.get("VSPHERE_USER"), environ.get("VSPHERE_PASSWORD")
    if not user or not password:
        raise UsageError("no vCenter credentials", fix="export VSPHERE_USER and VSPHERE_PASSWORD, "
                         "or pass --credentials-file FILE (YAML with user and password)")
    return Credentials(user, password)


@contextlib.contextmanager
def _default_socket_timeout(seconds: float):
    """pyvmomi's API-version discovery opens its own connection without a
    timeout; bound it through the process default while connecting."""
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def _certificate(host: str, port: int) -> str:
    """Subject, issuer and names of the certificate a server presents, read without
    trusting it (only to word an error). The standard library decodes a PEM file only
    through ssl._ssl._test_decode_cert; where that is gone, say less."""
    import os
    import tempfile
    try:
        pem = ssl.get_server_certificate((host, port), timeout=10)
        with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as f:
            f.write(pem)
        try:
            cert = ssl._ssl._test_decode_cert(f.name)     # noqa: SLF001
        finally:
            os.unlink(f.name)
    except (OSError, ssl.SSLError, AttributeError, ValueError):
        return "a certificate mtvgen could not read"
    def name(rdns) -> str:
        return ", ".join(f"{k}={v}" for rdn in rdns for k, v in rdn) or "(empty)"
    sans = ", ".join(f"{k}:{v}" for k, v in cert.get("subjectAltName", ())) or "none"
    return f"subject {name(cert.get('subject', ()))}, issuer {name(cert.get('issuer', ()))}, names {sans} " \
           f"(the URL's host is {host})"


class _Progress:
    """Counts and rate on stderr while fetching; silent when stderr is not a terminal."""

    def __init__(self, enabled: bool | None = None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.start = time.monotonic()

    def update(self, what: str, count: int) -> None:
        if self.enabled:
            rate = count / max(time.monotonic() - self.start, 1e-6)
            sys.stderr.write(f"\r  {what}: {count} objects ({rate:,.0f}/s)   ")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


class VSphereSource:
    def __init__(self, url: str, creds: Credentials, *, ca_file: str | None = None, insecure: bool = False,
                 timeout: float = 30.0, page_size: int = 1000, progress: bool | None = None):
        checked = http_url(url)
        if checked is None:
            raise UsageError(f"not a vCenter URL: {url!r}", fix="use https://<vcenter>/sdk")
        parsed, port = checked
        self.url, self.creds, self.timeout, self.page_size = url, creds, timeout, page_size
        self.host, self.port = parsed.hostname, port or (443 if parsed.scheme == "https" else 80)
        self.path = parsed.path or "/sdk"
        self.tls = parsed.scheme == "https"
        self.ca_file, self.insecure = ca_file, insecure
        self.progress = _Progress(progress)
        self._content = None
        self._tls_context = None
        self._fields: dict = {}
        self._objects: dict[str, tuple] = {}

    # ---------------------------------------------------------------- edge
    @contextlib.contextmanager
    def _edge(self, what: str):
        where = f"{self.host}:{self.port}"
        try:
            yield
        except vim.fault.InvalidLogin as exc:
            raise AuthError(f"vCenter {where} rejected the credentials of {self.creds.user!r}",
                            fix="check VSPHERE_USER / VSPHERE_PASSWORD or the credentials file") from exc
        except (vim.fault.NoPermission, vim.fault.NotAuthenticated) as exc:
            priv = getattr(exc, "privilegeId", "") or "System.View"
            raise PermissionDenied(f"user {self.creds.user!r} may not {what} on {where} (missing privilege {priv})",
                                   fix="give the user a read-only role on the vCenter root, propagated to "
                                   "children") from exc
        except ssl.SSLCertVerificationError as exc:
            if self.ca_file:        # the advice "pass --ca-file" was followed: say what did not match
                raise TLSError(f"TLS certificate of {where} is not trusted with --ca-file {self.ca_file}: "
                               f"{exc.verify_message}; the server presents {_certificate(self.host, self.port)}",
                               fix="pass the CA that issued this certificate (its issuer above), and a URL whose "
                                   "host is one of its names") from exc
            raise TLSError(f"TLS certificate of {where} is not trusted: {exc.verify_message}",
                           fix="pass --ca-file with the vCenter CA certificate (or --insecure, which is unsafe)"
                           ) from exc
        except ssl.SSLError as exc:
            raise TLSError(f"TLS handshake with {where} failed: {exc.reason or exc}",
                           fix="check that the URL points at vCenter's HTTPS port") from exc
        except (socket.timeout, TimeoutError) as exc:
            raise TimeoutError_(f"{where} did not answer within {self.timeout:g} s while trying to {what}",
                                fix="check the address and the network path, or raise --timeout") from exc
        except ConnectionRefusedError as exc:
            raise ConnectError(f"connection to {where} refused", fix="check the host and port in source.url") from exc
        except socket.gaierror as exc:
            raise ConnectError(f"cannot resolve host {self.host!r}", fix="check the host name in source.url") from exc
        except (ConnectionError, http.client.HTTPException) as exc:
            raise ConnectError(f"connection to {where} broke while trying to {what}: {exc}",
                               fix="retry; if it persists, check vCenter's health") from exc
        except OSError as exc:
            raise ConnectError(f"cannot reach {where}: {exc.strerror or exc}", fix="check the host and port") from exc
        except vmodl.MethodFault as exc:
            raise InventoryError(f"vCenter {where} refused to {what}: {exc.msg}",
                                 fix="check vCenter's health and the user's role; retry") from exc

    def _connect(self):
        if self._content is not None:
            return self._content
        if self.tls:
            if self.insecure:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            else:
                try:
                    ctx = ssl.create_default_context(cafile=self.ca_file)
                except (OSError, ssl.SSLError) as exc:
                    raise UsageError(f"cannot load CA file {self.ca_file}: {exc}",
                                     fix="pass a PEM file with the vCenter CA certificate(s) to --ca-file") from exc
        self._tls_context = ctx if self.tls else None      # the tagging API's connection trusts the same
        with self._edge("connect"), _default_socket_timeout(self.timeout):
            if self.tls:
                stub = SmartStubAdapter(host=self.host, port=self.port, path=self.path, sslContext=ctx,
                                        httpConnectionTimeout=self.timeout)
            else:  # plain HTTP: only the benchmark's counting proxy in front of vcsim speaks it
                stub = SoapStubAdapter(url=f"http://{self.host}:{self.port}{self.path}", version=PLAIN_HTTP_VERSION,
                                       httpConnectionTimeout=self.timeout)
            si = vim.ServiceInstance("ServiceInstance", stub)
            content = si.RetrieveContent()
        with self._edge("log in"):
            content.sessionManager.Login(self.creds.user, self.creds.password)
        self._content = content
        return content

    # ---------------------------------------------------------------- reads
    def _retrieve(self, spec, what: str):
        """Yield ObjectContent, page by page."""
        pc = self._content.propertyCollector
        count = 0
        with self._edge(what):
            result = pc.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=self.page_size))
            while result:
                for oc in result.objects:
                    for missing in oc.missingSet or ():
                        fault = missing.fault.fault if missing.fault else None
                        if isinstance(fault, (vim.fault.NoPermission, vim.fault.NotAuthenticated)):
                            raise fault
                    yield oc
                count += len(result.objects)
                self.progress.update(what, count)
                if not result.token:
                    break
                result = pc.ContinueRetrievePropertiesEx(result.token)
        self.progress.done()

    def snapshot(self, selects: frozenset[str] | None = None) -> Inventory:
        """`selects`: the selector keys the site uses (None: all), which decide what the
        first pass reads of every VM; details() reads the rest for the selected ones."""
        keys = VM_SELECTED_BY if selects is None else selects
        inv = self._read({**LIGHT, vim.VirtualMachine: sorted({*LIGHT[vim.VirtualMachine],
                                                               *(p for k in keys for p in VM_SELECTED_BY.get(k, ()))})})
        if selects is not None and selects & DETAIL_FACTS:
            inv = self.details(inv, set(inv.vms))      # `where:` reads them of every VM
        if selects is None or "tags" in selects:
            inv = self._with_tags(inv, needed=selects is not None)
        return inv

    def vms(self, ids: set[str], tags: bool = False) -> Inventory:
        """Only these VMs, by id, with all their facts (`mtvgen verify`): the folders,
        hosts, networks and datastores of the vCenter (their names make paths and maps),
        but not one other VM. A VM that is gone is simply not there. `tags`: read their
        tags too (the lock has them: a `where:` read them)."""
        inv = self.details(self._read(LIGHT, vm_ids=ids), set(ids))
        return self._with_tags(inv, needed=True) if tags else inv

    def _read(self, types: dict, vm_ids: set[str] | None = None) -> Inventory:
        """The first pass: `types`' properties of every object under the root (VMs: of
        those in `vm_ids` only, by id, when given), with the custom attribute names."""
        content = self._connect()
        with self._edge("read the inventory"):
            view = content.viewManager.CreateContainerView(content.rootFolder, [vim.ManagedEntity], True)
        traverse = PC.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ContainerView)
        specs = [(PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
                                propSet=[PC.PropertySpec(type=t, pathSet=p) for t, p in types.items()
                                         if vm_ids is None or t is not vim.VirtualMachine]), "read the inventory")]
        if vm_ids:
            stub = content.propertyCollector._stub
            specs.append((PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=vim.VirtualMachine(i, stub), skip=False)
                                                   for i in sorted(vm_ids)],
                                        propSet=[PC.PropertySpec(type=vim.VirtualMachine,
                                                                 pathSet=types[vim.VirtualMachine])]),
                          "read the VMs by id"))
        objects = {}
        for spec, what in specs:
            for oc in self._retrieve(spec, what):
                props = {p.name: p.val for p in oc.propSet}
                if "name" in props:
                    props["name"] = unescaped(props["name"])
                objects[oc.obj._moId] = (type(oc.obj), props)
        with self._edge("release the view"):
            view.DestroyView()
        fields = {}
        if content.customFieldsManager is not None:
            with self._edge("read custom attribute names"):
                for f in content.customFieldsManager.field or ():
                    fields[f.key] = f.name
        self._fields = fields
        about = content.about
        info = ProviderInfo("vsphere", {"instanceUuid": about.instanceUuid, "product": about.fullName,
                                        "apiVersion": about.apiVersion}, origin=self.url)
        return build(objects, paths(objects), fields, info)

    def _with_tags(self, inv: Inventory, needed: bool) -> Inventory:
        """Tags of every VM, from the tagging API. When the site's `where:` reads them and
        they cannot be had, an error that says why; otherwise (`mtvgen inventory`) none."""
        from . import vsphere_tags
        scheme = "https" if self.tls else "http"
        try:
            tags = vsphere_tags.read(f"{scheme}://{self.host}:{self.port}", self._tls_context, self.creds.user,
                                     self.creds.password, self.timeout)
        except vsphere_tags.TagsUnavailable as exc:
            if not needed:
                return inv
            raise InventoryError(f"a `where:` reads vm.tags, and vCenter {self.host}:{self.port} gave no tags: {exc}",
                                 fix="give the user the privilege to read tags (a read-only role does), or select "
                                     "without vm.tags") from None
        for vm_id, pairs in tags.items():
            if vm_id in inv.vms:
                inv.vms[vm_id] = msgspec.structs.replace(inv.vms[vm_id], tags=pairs)
        return inv

    def details(self, inv: Inventory, vm_ids) -> Inventory:
        """Fill the heavy facts of the given VMs (the ones the site selects)."""
        ids = sorted(set(vm_ids))
        if not ids:
            return inv
        refs = [vim.VirtualMachine(i, self._content.propertyCollector._stub) for i in ids]
        spec = PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=r, skip=False) for r in refs],
                             propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=HEAVY)])
        by_key = {n.key: n.id for n in inv.networks.values() if n.key}
        for oc in self._retrieve(spec, "read VM devices"):
            vm = inv.vms.get(oc.obj._moId)
            if vm is not None:
                props = {p.name: p.val for p in oc.propSet}
                vm = msgspec.structs.replace(vm, **vm_facts(props, inv, self._fields))
                vm = with_details(vm, props, by_key)
                if is_ghost(vm):        # a Plan naming it would never be Ready
                    del inv.vms[vm.id]
                    inv.skipped[vm.id] = (vm.name, "vCenter reports no UUID, instance UUID or host "
                                                   "(an orphaned or inaccessible VM)")
                else:
                    inv.vms[vm.id] = vm
        return inv

    def close(self) -> None:
        if self._content is not None:
            with contextlib.suppress(Exception):  # best effort: the session times out anyway
                self._content.sessionManager.Logout()
            self._content = None
