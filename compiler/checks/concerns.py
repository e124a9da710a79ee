"""Forklift's VM concerns, mirrored offline (catalog: VM concerns)."""

from __future__ import annotations

import re

from .context import Context, vm_diag


_SUPPORTED_GUESTS = re.compile(
    r"^(rhel(7|8|9|10)(_64)?Guest|windows9(_64)?Guest|windows11(_64)?Guest|windows9Server64Guest"
    r"|windows2019srv(Next)?_64Guest|windows2022srvNext_64Guest)$")


def concerns(ctx: Context):
    src = ctx.site.source.type
    for plan in ctx.site.plans:
        static_ips = plan.options.get("preserveStaticIPs", True)
        for p in ctx.vms(plan):
            vm = p.vm
            shared = rdm = independent = False      # one pass over the disks (10k VMs: 40,000 of them)
            for d in vm.disks:
                if not d.datastore and not d.lun:    # a direct LUN has no storage domain by design
                    yield vm_diag("MTV070", p, plan, f"disk {d.key} has no datastore")
                if d.capacity <= 0:
                    yield vm_diag("MTV071", p, plan, f"disk {d.key} has capacity {d.capacity}")
                shared, rdm = shared or d.shared, rdm or d.rdm
                independent = independent or d.mode.startswith("independent")
            for category, label in vm.concerns:
                if category == "Critical":
                    yield vm_diag("MTV073", p, plan, f"Forklift concern: {label}")
            if "VirtualPCIPassthrough" in vm.devices:
                yield vm_diag("MTV072", p, plan, "has a PCI passthrough device")
            if shared:
                yield vm_diag("MTV074", p, plan, "has a shared disk")
            if rdm:
                yield vm_diag("MTV075", p, plan, "has an RDM disk")
            if independent:
                yield vm_diag("MTV076", p, plan, "has an independent disk")
            if vm.cpu_hot_add or vm.cpu_hot_remove or vm.memory_hot_add:
                yield vm_diag("MTV077", p, plan, "has CPU or memory hot plug enabled")
            if vm.tpm:
                yield vm_diag("MTV078", p, plan, "has a TPM")
            if "VirtualUSBController" in vm.devices:
                yield vm_diag("MTV079", p, plan, "has a USB controller")
            if "VirtualSriovEthernetCard" in vm.devices:
                yield vm_diag("MTV080", p, plan, "has an SR-IOV NIC")
            if src != "vsphere":
                continue
            if vm.guest_id and not _SUPPORTED_GUESTS.match(vm.guest_id):
                yield vm_diag("MTV081", p, plan, f"guest OS {vm.guest_id!r} is not supported for conversion")
            if static_ips and vm.power_state == "poweredOn" and not vm.ip_addresses:
                yield vm_diag("MTV082", p, plan, "reports no guest IP address")
            if vm.power_state == "poweredOn" and vm.tools_status in ("toolsNotInstalled", "toolsNotRunning"):
                yield vm_diag("MTV083", p, plan, f"VMware tools: {vm.tools_status}")
