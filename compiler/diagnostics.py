"""Diagnostics: the catalog of checks (one table), the Diagnostic record, and the
output formats (text, json, github, sarif).

Every problem mtvgen finds in a spec, a lock or an inventory is a Diagnostic with
a stable code from CATALOG, a location in the spec, a message and a fix. The
README's check catalog is generated from CATALOG (`mtvgen checks --markdown`).
"""

from __future__ import annotations

import json

import msgspec

from . import __version__
from .errors import Location
from .textsafe import printable

ERROR, WARNING, INFO = "error", "warning", "info"
# VMs per plan Forklift was tested with (kubev2v/forklift-documentation#544: 500 per plan,
# 5,000 per test, 40 plans at once); past it, each VM's status still lands in one Plan object
PLAN_VMS_TESTED = 500


class Check(msgspec.Struct, frozen=True):
    code: str
    slug: str
    severity: str
    title: str
    prevents: str  # the Forklift condition (or failure) this catches before a cluster sees it
    fix: str


CATALOG: dict[str, Check] = {c.code: c for c in (
    # spec and lock
    Check("MTV001", "spec-invalid", ERROR, "The site spec does not match its schema (unknown key, wrong type, bad value)",
          "", "Correct the key or value; unknown keys name the nearest valid key."),
    Check("MTV002", "unknown-reference", ERROR, "A name the spec refers to is not defined (hook, plan, VM in an override)",
          "HookNotValid / NotFound", "Define the object or correct the name."),
    Check("MTV003", "duplicate-name", ERROR, "Two plans, hooks or generated objects share a name",
          "", "Give each plan and hook a distinct name."),
    Check("MTV004", "lock-stale", ERROR, "The spec's selections or mappings changed since the lock was made",
          "", "Run `mtvgen lock <site>` and commit the new lock."),
    Check("MTV005", "credentials", ERROR, "Credentials do not fit the provider type, or would be written in plaintext",
          "SecretNotValid", "Use `secret` or `externalSecret`; plaintext needs --allow-plaintext-secrets."),
    Check("MTV006", "spec-file", ERROR, "A file the spec names (hook playbook) is missing, unreadable or outside the site",
          "", "Fix the path; it is relative to the site directory and must stay inside it."),
    Check("MTV007", "secret-file-invalid", ERROR, "A sealedSecret or sops file is not a usable, fully encrypted Secret "
          "for the MTV namespace", "SecretNotValid / a plaintext credential in Git",
          "Seal it with kubeseal for the MTV namespace, or encrypt every value with sops."),
    Check("MTV008", "release-unknown", ERROR, "forkliftVersion names a release mtvgen has no facts for",
          "", "Name a release the message lists, or `main` for one newer than mtvgen knows."),
    # selection
    Check("MTV009", "lock-unselected", ERROR, "The lock lists a VM in a plan that none of the plan's selectors choose",
          "a Plan that migrates a VM nobody selected (a hand-edited or badly merged lock)",
          "Re-run `mtvgen lock`; review who changed the lock."),
    Check("MTV010", "vm-not-found", ERROR, "An exact VM selector (name, id, path) matches no VM",
          "VMNotFound", "Correct the name; the message lists the closest names."),
    Check("MTV011", "selector-matches-nothing", WARNING, "A pattern selector (glob, regex, folder, ...) matches no VM",
          "", "Correct the pattern or remove the selector."),
    Check("MTV012", "vm-ambiguous", ERROR, "A VM name matches several VMs",
          "DuplicateVM (Ambiguous)", "Select by path or id, or add folder/datacenter to the selector."),
    Check("MTV013", "vm-listed-twice", WARNING, "Two exact selectors of one plan name the same VM",
          "DuplicateVM (NotUnique)", "Remove one of the selectors."),
    Check("MTV014", "vm-in-two-plans", ERROR, "A VM is selected by two plans of the site",
          "VMAlreadyExists at the second migration", "Exclude the VM from one plan."),
    Check("MTV015", "plan-empty", ERROR, "A plan selects no VM",
          "Plan without VMs", "Widen the selectors or remove the plan."),
    Check("MTV016", "override-no-match", ERROR, "A per-VM override or vmCutover matches no VM of the plan, or several",
          "", "Use the name, id or path of a VM the plan selects."),
    Check("MTV017", "map-source-not-found", ERROR, "A mapping or host names a network, storage or host that does not exist",
          "SourceNetworkNotValid / SourceStorageNotValid / RefNotValid", "Correct the name; the message lists the closest names."),
    Check("MTV018", "vm-is-template", ERROR, "A selected VM is a template",
          "VMNotFound (templates are not listed)", "Exclude templates from the selection."),
    Check("MTV019", "plan-large", WARNING, f"A plan holds more than {PLAN_VMS_TESTED} VMs, the most Forklift was "
          "tested with in one plan", "a Plan whose status (a record per VM) nears etcd's 1.5 MiB object limit",
          f"Split it: batch: {{maxVMs: {PLAN_VMS_TESTED}}} or fewer."),
    # names
    Check("MTV027", "where-invalid", ERROR, "A `where:` expression does not parse, names a VM field that does not "
          "exist, or does not give true or false", "", "Correct it: the message points into the expression and lists "
          "the VM's fields."),
    Check("MTV028", "where-not-evaluable", WARNING, "A `where:` expression cannot be evaluated for some VMs (a tag "
          "category or attribute they lack); those VMs are not selected", "",
          "Guard the lookup: `'env' in vm.tags && 'prod' in vm.tags['env']`."),
    Check("MTV020", "target-name-collision", ERROR, "Two VMs would get the same name in one target namespace",
          "DuplicateVM / VMAlreadyExists", "Set a distinct targetName on one of them."),
    Check("MTV021", "target-name-invalid", ERROR, "An explicit targetName is not a DNS-1123 subdomain of at most 63 characters",
          "NotValid (TargetName is invalid)", "Use lowercase letters, digits, '-' and '.'."),
    Check("MTV022", "vm-renamed", INFO, "A VM's name is not DNS-1123; it will be created under another name",
          "TargetNameNotValid (Warn)", "Set targetName to choose the name yourself."),
    Check("MTV023", "name-shortened", INFO, "A generated object name was too long or not DNS-1123 and got a hash suffix",
          "", "Shorten the site or plan name if you want a plain name."),
    Check("MTV024", "service-account-invalid", ERROR, "A plan serviceAccount is not a valid name",
          "ServiceAccountNotValid", "Use a DNS-1123 label."),
    Check("MTV025", "name-template-invalid", ERROR, "A PVC, volume or network name template does not give valid names",
          "NotValid (template)", "Use only the template's variables and keep results DNS-1123."),
    # mappings
    Check("MTV026", "target-label-invalid", ERROR, "A targetLabels key or value is not a Kubernetes label",
          "VM creation refused by the API server, late in the run", "Use label syntax; quote numbers and booleans."),
    Check("MTV030", "network-not-mapped", ERROR, "A selected VM uses a network that no mapping covers",
          "VMNetworksNotMapped", "Add the network to `networks:`."),
    Check("MTV031", "storage-not-mapped", ERROR, "A selected VM has a disk on storage that no mapping covers",
          "VMStorageNotMapped", "Add the storage to `storage:`."),
    Check("MTV032", "pod-network-twice", ERROR, "More than one NIC of a VM lands on the pod network",
          "VMMultiplePodNetworkMappings", "Map the extra networks to a multus NAD or `ignored`."),
    Check("MTV033", "nad-namespace", ERROR, "A multus NAD is outside the plan's target namespace and `default`",
          "NetMapDestinationNADNotValid", "Use a NAD in the target namespace or in `default`."),
    Check("MTV034", "dvswitch-source", ERROR, "A distributed switch is used as a network source",
          "SourceNetworkNotValid", "Map the distributed port groups, not the switch."),
    Check("MTV035", "mapping-unused", WARNING, "A mapping entry is used by no selected VM",
          "", "Remove the entry, or select the VMs that need it."),
    Check("MTV036", "pod-network-static-ips", WARNING, "A VM on the pod network with preserveStaticIPs keeps no static IP",
          "NetMapPreservingIPsOnPodNetwork", "Map to a multus NAD or set preserveStaticIPs: false."),
    Check("MTV037", "transfer-network-namespace", ERROR, "The transfer network NAD is outside the target namespace and `default`",
          "TransferNetworkNotValid", "Use a NAD in the target namespace or `default`."),
    Check("MTV038", "mapping-overlap", ERROR, "Two equally specific mapping entries cover the same source",
          "the second pair is never used (Forklift takes the first match)", "Keep one, or scope one with datacenter or id."),
    Check("MTV039", "mapping-many-datacenters", INFO, "A mapping entry's name exists in several datacenters; all "
          "are mapped", "", "Add `datacenter:` to the entry if only one is meant."),
    # migration type
    Check("MTV040", "migration-type-unsupported", ERROR, "The plan's migration type is not supported for this provider type",
          "MigrationTypeNotValid / WarmMigrationNotReady", "Use a type the provider supports (see the message)."),
    Check("MTV041", "warm-cbt-disabled", ERROR, "Warm migration of a VM without changed block tracking",
          "VMMissingChangedBlockTracking", "Enable CBT on the VM (ctkEnabled) or migrate it cold."),
    Check("MTV042", "warm-disk-cbt-disabled", WARNING, "Warm migration of a disk without changed block tracking",
          "vmware.changed_block_tracking.disk.disabled", "Enable CBT for each disk."),
    Check("MTV043", "warm-snapshot", ERROR, "Warm migration of a VM that has snapshots",
          "VMHasSnapshots", "Delete or consolidate the snapshots first."),
    Check("MTV044", "vddk-missing", ERROR, "Warm migration or skipGuestConversion on vSphere without a VDDK image",
          "VDDKInitImageUnavailable", "Set source.vddkImage (also when ForkliftController has vddk_image: "
          "the Provider then does not depend on operator settings)."),
    Check("MTV045", "ovirt-warm", WARNING, "Warm migration from oVirt needs the controller's feature flag",
          "MigrationTypeNotValid", "Enable feature_ovirt_warm_migration or migrate cold."),
    Check("MTV046", "luks-source", ERROR, "luksSecret on a source other than vSphere or OVA",
          "Plan webhook: encrypted disks from source provider of type X are not supported",
          "Remove luksSecret; decrypt the disks before migrating."),
    Check("MTV047", "scsi-reservation-without-rdm-lun", WARNING, "scsiReservation without rdmAsLun",
          "Plan.spec.scsiReservation requires rdmAsLun", "Set rdmAsLun: true, or drop scsiReservation."),
    # hooks
    Check("MTV050", "hook-unused", WARNING, "A hook is defined but no VM uses it",
          "", "Reference it with preHook/postHook or remove it."),
    Check("MTV051", "hook-playbook-invalid", ERROR, "A hook playbook is not a YAML list of plays",
          "InvalidPlaybook", "Fix the playbook file."),
    Check("MTV052", "hook-image-missing", ERROR, "A hook has a playbook but no image to run it",
          "InvalidImage", "Set image (e.g. quay.io/konveyor/hook-runner)."),
    Check("MTV053", "playbook-too-large", ERROR, "A hook's playbook is over 512 KiB",
          "a Hook larger than the API server and etcd accept (the sync fails)",
          "Move the work into the hook image; keep the playbook short."),
    # provider specific
    Check("MTV060", "openstack-image-backed", ERROR, "An OpenStack VM boots from an image, not only Cinder volumes",
          "VMStorageNotMapped (glance)", "Only Cinder-volume VMs are supported; migrate it another way."),
    Check("MTV062", "ovirt-direct-lun", WARNING, "An oVirt direct LUN disk is detached and re-attached, not copied",
          "", "Make sure the target nodes reach the LUN; keep the source VM off."),
    Check("MTV063", "ovirt-lun-engine", ERROR, "An oVirt direct LUN disk, and the engine is older than 4.5.2.1",
          "VMStorageNotSupported", "Upgrade the engine, or move the disk to a storage domain first."),
    Check("MTV064", "openshift-vm-namespace", ERROR, "An OpenShift source VM has no namespace",
          "VMRefNotValid (ambiguous)", "Select OpenShift VMs with namespace."),
    Check("MTV065", "hosts-not-vsphere", ERROR, "ESXi hosts are only for vSphere sources",
          "TypeNotValid", "Remove source.hosts."),
    Check("MTV066", "host-ip", ERROR, "An ESXi host needs one transfer IP address",
          "IpNotValid", "Set ipAddress on the host (the message lists its addresses)."),
    Check("MTV067", "host-maintenance", WARNING, "An ESXi host is in maintenance mode",
          "HostNotReady / InMaintenance", "Take the host out of maintenance or drop it."),
    Check("MTV068", "host-credentials", ERROR, "An ESXi host has no credentials of its own (the Host controller logs "
          "in to the host with them)", "ConnectionTestFailed on the Host",
          "Give the host `credentials:`, or set `reuseProviderCredentials: true` deliberately."),
    # VM concerns (Forklift's vSphere validation policies)
    Check("MTV070", "disk-datastore-missing", ERROR, "A disk has no datastore",
          "VMCriticalConcerns (vmware.datastore.missing)", "Fix the VM's disk in vCenter."),
    Check("MTV071", "disk-capacity-invalid", ERROR, "A disk has a capacity of zero or less",
          "VMCriticalConcerns (vmware.disk.capacity.invalid)", "Fix the disk in the source."),
    Check("MTV072", "pci-passthrough", ERROR, "The VM has a PCI passthrough device",
          "VMCriticalConcerns (vmware.passthrough_device.detected)", "Remove the device before migrating."),
    Check("MTV073", "critical-concern", ERROR, "Forklift's inventory reports a Critical concern for the VM",
          "VMCriticalConcerns", "Resolve the concern in the source."),
    Check("MTV074", "disk-shared", WARNING, "The VM has a shared disk", "vmware.disk.shared.detected",
          "Check migrateSharedDisks and the other VMs using the disk."),
    Check("MTV075", "disk-rdm", WARNING, "The VM has an RDM disk", "vmware.disk.rdm.detected / RDMDiskWarning",
          "RDM disks are not copied unless rdmAsLun; plan for them."),
    Check("MTV076", "disk-independent", WARNING, "The VM has an independent disk",
          "vmware.disk_mode.independent / IndependentDiskWarning", "Independent disks cannot be snapshotted."),
    Check("MTV077", "hotplug", WARNING, "CPU or memory hot plug is enabled", "vmware.cpu_memory.hotplug.enabled",
          "Hot plug is not carried over; disable it or accept it."),
    Check("MTV078", "tpm", WARNING, "The VM has a TPM", "vmware.tpm.detected", "TPM contents are not migrated."),
    Check("MTV079", "usb-controller", WARNING, "The VM has a USB controller", "vmware.usb_controller.detected",
          "USB devices are not migrated."),
    Check("MTV080", "sriov", WARNING, "The VM has an SR-IOV NIC", "vmware.device.sriov.detected",
          "Map its network to an SR-IOV NAD."),
    Check("MTV081", "guest-os-unsupported", WARNING, "The guest OS is not supported for conversion",
          "vmware.os.unsupported", "Check the guest OS or use skipGuestConversion."),
    Check("MTV082", "missing-guest-ip", WARNING, "preserveStaticIPs is on but the VM reports no guest IP",
          "VMMissingGuestIPs", "Start VMware tools or set preserveStaticIPs: false."),
    Check("MTV083", "guest-tools", ERROR, "A powered-on vSphere VM has VMware tools not installed or not running",
          "GuestToolsIssue", "Install/start VMware tools or power the VM off."),
    Check("MTV084", "vm-ghost", WARNING, "A selected vSphere VM has no UUID, instance UUID or host (orphaned or "
          "inaccessible); Forklift's inventory does not list it, so it is left out",
          "VMNotFound, a Plan that is never Ready", "Repair or remove the VM in vCenter, then lock again."),
    Check("MTV085", "vm-name-unprintable", WARNING, "A VM's name holds a control character (DEL, C1, a lone "
          "surrogate) that kubectl, kustomize, Argo CD and Flux refuse in YAML",
          "a manifest every GitOps tool refuses whole", "Rename the VM at the source; until then it is named by id."),
    # start and cutover
    Check("MTV090", "cutover-past", WARNING, "The cutover time is in the past",
          "", "Set a future cutover or remove it."),
    Check("MTV091", "cutover-cold", ERROR, "A cutover is set on a plan that is not warm",
          "", "Remove the cutover or make the plan warm."),
    Check("MTV092", "warm-no-cutover", INFO, "A warm plan is started without a cutover; precopies run until one is set",
          "", "Add start.cutover when you know the window."),
    Check("MTV093", "done-edited", ERROR, "A plan marked done was edited after the lock froze it",
          "Plan is not reconciled once Succeeded (the edit never reaches the VMs)",
          "Revert the edit; select VMs that still need to move in a new plan."),
    Check("MTV094", "cutover-invalid", ERROR, "A cutover or wave start is not an ISO 8601 time with an offset",
          "", "Write e.g. 2026-12-05T22:00:00+01:00."),
    Check("MTV095", "cutover-past-at-start", ERROR, "A warm run starts (or was pinned) with a cutover already in the past",
          "", "Set a future cutover, or pass --cutover now to cut over at once."),
    # lifecycle: waves, batches, done and retired plans
    Check("MTV120", "wave-unknown", ERROR, "A plan names a wave that `waves:` does not define",
          "", "Add the wave to `waves:` or correct the number."),
    Check("MTV121", "retired-not-done", ERROR, "A plan is retired but not done",
          "a running plan left without a GitOps owner", "Mark it done first (its run must have ended)."),
    Check("MTV122", "wave-window-passed", WARNING, "A started plan's wave window has already ended",
          "a run Argo CD will not sync until the window comes round again",
          "Move the plan to a later wave, or update the wave's start."),
    Check("MTV123", "waves-flux", INFO, "Waves have windows, and Flux delivers this site: Flux has no sync windows",
          "", "Merge the start of a wave's plans inside its window."),
    Check("MTV124", "done-not-frozen", ERROR, "A plan marked done is not frozen in the lock yet",
          "a done plan re-selected or edited behind Forklift's back",
          "Run `mtvgen done SITE PLAN` (offline) or `mtvgen lock SITE`."),
    Check("MTV125", "batch-unknown", ERROR, "start.batches, start.attempts or done names a batch the plan does not have (or has not started)",
          "", "Use the batch numbers of the lock (plan-01, plan-02, ...)."),
    Check("MTV126", "started-plan-removed", ERROR, "A running plan (pinned in the lock) is gone from site.yaml "
          "(deleted or renamed)", "a Plan and Migration that keep running with no owner in Git; after a rename, "
          "a second Plan over the same VMs", "Put it back; to end its run, cancel it, then mark it done."),
    Check("MTV127", "started-plan-archived", ERROR, "A started plan whose run has not ended (not done) is archived",
          "Forklift's archive of an unfinished plan deletes the DataVolumes and PVCs of every VM not yet succeeded",
          "Cancel the run, mark the plan done, then archive it."),
    Check("MTV128", "started-plan-unstarted", ERROR, "A running plan lost its `start:`",
          "a run that goes on while Git no longer shows it", "Put `start:` back; to stop the run, use `mtvgen cancel`."),
    Check("MTV129", "suppress-error", WARNING, "`suppress:` names an error, which suppressing cannot silence",
          "", "Fix the error, or take responsibility for it with `acknowledge:` where the code allows."),
    Check("MTV130", "running-plan-edited-cancels", ERROR, "A running plan, its maps or its Providers were edited, "
          "and the targeted Forklift release (before 2.12) cancels a run when one of them changes",
          "Canceled (reason Modified): every VM not yet migrated stops", "Undo the edit until the run has ended "
          "(done, or retry for a new attempt), or acknowledge it to cancel on purpose."),
    Check("MTV131", "running-plan-edited", WARNING, "A running plan, its maps or its Providers were edited while its "
          "run goes on", "", "Forklift 2.12 and later keep the run going; the edit reaches only the steps "
          "still to come. Retry for a new attempt if every VM must see it."),
    # the source before a window (`mtvgen verify`: the lock against the source as it is now)
    Check("MTV150", "source-drift", ERROR, "A VM of the plan changed on the source since the lock was made",
          "a run that migrates what nobody reviewed (a grown disk, a new NIC, a snapshot on a warm VM)",
          "Re-lock and review the change, or hold the window."),
    Check("MTV151", "source-vm-gone", ERROR, "A VM of the plan is gone from the source since the lock was made",
          "VMNotFound", "Re-lock (the VM leaves the plan), or find out where it went before the window."),
    Check("MTV152", "source-nic-unmapped", ERROR, "A VM's NIC is now on a network the plan's map does not cover",
          "VMNetworksNotMapped", "Map the network in `networks:`, then re-lock."),
    # the cluster as it runs (`mtvgen status --format github|sarif`): its problems at the spec lines behind them
    Check("MTV160", "cluster-plan-blocked", ERROR, "A Plan on the cluster is blocked by a condition of the controller",
          "a run that never starts", "The message names the condition; the line is the plan or the selector of "
          "the VMs it names."),
    Check("MTV161", "cluster-vm-failed", ERROR, "A VM failed in its run on the cluster",
          "", "Fix the cause the message gives, then `mtvgen retry SITE PLAN`."),
    Check("MTV162", "cluster-object-blocked", ERROR, "A Provider, Host, map or Hook on the cluster is blocked",
          "plans that stand on it are not Ready", "The message names the condition; the line is the spec entry "
          "that made the object."),
    Check("MTV170", "wave-overrun", WARNING, "A wave's estimated duration (its disks at the declared `throughput:`) "
          "is longer than its window", "a run still copying when the window closes",
          "Run `mtvgen fit` to place batches in waves that hold them, lengthen the window, or record the real "
          "rates (`mtvgen status --record`)."),
    Check("MTV171", "throughput-unknown-name", WARNING, "`throughput.hosts` or `throughput.datastores` names a "
          "host or datastore no locked VM uses", "a limit that counts for nothing: the estimate is too short",
          "Use the name the lock records (`mtvgen inventory SITE hosts --lock`), or drop the entry."),
    Check("MTV172", "batch-wave-unknown", ERROR, "`batch.waves` names something that is not a batch of its plan",
          "a batch that runs in its plan's wave while the spec says otherwise",
          "Name the plan's batches as the lock does: <plan>-01, <plan>-02, ... (`mtvgen fit` writes them)."),
    # the ledger of what has moved (sites/ledger.yaml, written by `mtvgen done`)
    Check("MTV153", "vm-already-moved", ERROR, "A plan selects, by name, or still holds a VM the ledger says has "
          "moved", "the same VM migrated twice: a second copy on the target, or a run that fails on the name",
          "Take it out of the plan (re-lock), or list it under `remigrate:` to migrate it again."),
    Check("MTV154", "vm-in-two-sites", ERROR, "Two sites of the repository select the same VM of the same source",
          "two Plans migrating one VM", "Select it in one site only."),
    # the target cluster (facts recorded in the lock by `mtvgen lock --context ...`)
    Check("MTV100", "target-namespace-created", INFO, "A target namespace does not exist yet; the controller creates it",
          "", "Create it yourself if it needs labels, quotas or RBAC for the GitOps service account."),
    Check("MTV101", "storage-class-missing", ERROR, "A storage map names a StorageClass the cluster does not have",
          "DestinationStorageNotValid", "Use one of the cluster's storage classes (the message lists them)."),
    Check("MTV102", "no-provisioner", ERROR, "A non-vSphere cold migration maps to a StorageClass without a provisioner",
          "Plan admission (static storage class)", "Map to a dynamically provisioned storage class."),
    Check("MTV103", "nad-missing", ERROR, "A network map names a NetworkAttachmentDefinition that does not exist",
          "DestinationNetworkNotValid", "Create the NAD first or correct the name."),
    Check("MTV104", "transfer-network-missing", ERROR, "The transfer network NAD does not exist",
          "TransferNetworkNotValid", "Create the NAD or choose another transfer network."),
    Check("MTV105", "transfer-network-route", WARNING, "The transfer network NAD has no forklift.konveyor.io/route "
          "annotation", "TransferNetworkMissingDefaultRoute", "Annotate the NAD with the gateway IP or `none`."),
    Check("MTV106", "service-account-missing", ERROR, "A plan or hook service account does not exist",
          "ServiceAccountNotValid / HookServiceAccountNotValid", "Create the service account first."),
    Check("MTV107", "provider-clash", ERROR, "A Provider of that name exists with another type or URL",
          "", "Rename the site's provider (source.name) or mark it external."),
    Check("MTV108", "vm-already-exists", ERROR, "A VirtualMachine with the target name already exists in the target "
          "namespace", "VMAlreadyExists", "Set another targetName, or remove the VM from the plan."),
    Check("MTV109", "external-provider-missing", ERROR, "A Provider the site refers to as existing is not on the cluster",
          "SourceProviderNotValid / DestinationProviderNotValid", "Create it, or let mtvgen emit it."),
    # delivery (Argo CD, Flux)
    Check("MTV114", "quota-exceeded", ERROR, "The disks of a wave's plans do not fit a ResourceQuota of their target "
          "namespace (storage requested, PVC count, per storage class), counting the waves before it",
          "PVCs refused mid-run (exceeded quota): VMs fail after the window opened",
          "Raise the quota, move plans to a later wave, or map to another storage class."),
    Check("MTV110", "delivery-sops-argocd", WARNING, "A SOPS-encrypted file is delivered by Argo CD, which does not "
          "decrypt SOPS by itself", "an encrypted, unusable Secret on the cluster",
          "Install a SOPS plugin (KSOPS or a Config Management Plugin), or use sealedSecret/externalSecret."),
    Check("MTV111", "delivery-window-plan", ERROR, "A sync window names a plan the site does not have",
          "", "Use plan names from `plans:`."),
    Check("MTV112", "delivery-sops-key", ERROR, "Flux delivers SOPS-encrypted files but no decryption Secret is named",
          "a Kustomization that cannot decrypt", "Set delivery.flux.sopsSecret."),
    Check("MTV113", "delivery-windows-project", WARNING, "Sync windows are asked for, but mtvgen does not write the "
          "AppProject (createProject: false)", "runs that start outside their window",
          "Add the windows to your AppProject, or let mtvgen write it."),
    # the build itself
    # security: what a pull request may change, and what leaks
    Check("MTV140", "url-credentials", ERROR, "A source or destination URL carries user:password",
          "a password written into the Provider, the lock and every log that echoes the URL",
          "Drop the user-info; credentials go in the Secret."),
    Check("MTV141", "plaintext-http", ERROR, "A source or destination URL is plain http:// (a warning where the "
          "policy allows it)",
          "the vCenter password (at lock) and the Provider's credentials crossing the network in clear",
          "Use https://."),
    Check("MTV142", "insecure-tls", ERROR, "insecureSkipVerify: true: the server's certificate is not checked "
          "(a warning where the policy allows it)",
          "credentials handed to whoever answers on the path", "Give the CA (cacert) instead."),
    Check("MTV143", "policy-delivery", ERROR, "A delivery setting (Git path or repository, Argo CD project or "
          "cluster, Flux source, kubeconfig or service account, source host) the policy does not allow",
          "a pull request to one site that points Argo CD or Flux at manifests, clusters or rights of its choosing",
          "Use the defaults, or have the policy's owners allow it in mtvgen-policy.yaml."),
    Check("MTV144", "policy-namespace", ERROR, "A site writes to a system namespace the policy does not allow",
          "Providers, Plans or VMs created in kube-system, openshift-config, argocd...",
          "Use a namespace of the site's own."),
    Check("MTV145", "policy-hook", ERROR, "A hook runs an image or as a service account the policy does not allow",
          "a playbook that runs with the Forklift controller's rights", "Give hooks an account of their own."),
    Check("MTV146", "too-many-units", WARNING, "A site writes over 1,000 Applications or Kustomizations (an "
          "error past the policy's maxUnits, 5,000 by default)",
          "a review no one can read and an Argo CD or Flux that reconciles thousands of units",
          "Raise batch.maxVMs, or split the site."),
    Check("MTV147", "credentials-shared", ERROR, "Credentials that sites share are used for different hosts",
          "a pull request that points one site at a host of its choosing with another site's account",
          "Give each host its own Secret or key; share them only between sites of the same host."),
    Check("MTV098", "release-field", ERROR, "A generated object uses a field the targeted Forklift release does not have",
          "a field the API server prunes in silence or refuses (a pruned `type: warm` runs cold)",
          "Drop the option, or target a release that has it (forkliftVersion)."),
    Check("MTV099", "manifest-invalid", ERROR, "A generated manifest fails its Forklift schema or references a missing object",
          "Admission rejection", "Fix the spec value the message points at."),
)}

SEVERITY_RANK = {ERROR: 0, WARNING: 1, INFO: 2}


class Diagnostic(msgspec.Struct, frozen=True):
    """One finding. A msgspec Struct: a 10k-VM site makes 10,000 of them (a rename note
    per VM), and a Struct is built in 0.1 µs where a frozen dataclass took 1.5 µs."""
    code: str
    message: str
    location: Location | None = None
    help: str = ""
    plan: str = ""
    vm: str = ""                 # VM id or name, for suppressions
    severity: str = ""           # "" = the catalog's
    suppressed: str = ""         # the user's reason, when suppressed
    acknowledged: str = ""       # an error a person took responsibility for: their reason and where

    @property
    def level(self) -> str:
        return self.severity or CATALOG[self.code].severity

    def sort_key(self):
        loc = self.location or Location("")
        return (loc.file, loc.line, loc.col, self.code, self.message)

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        tag = f"{self.level}[{self.code}]"
        if self.suppressed:
            tag = f"suppressed {tag}"
        elif self.acknowledged:
            tag = f"acknowledged {tag}"
        # a message quotes specs and inventories, which anyone who may open a pull request or
        # name a VM writes: no control sequence of theirs reaches a terminal or a CI log
        text = f"{where}{tag}: {printable(self.message)}"
        fix = printable(self.help or CATALOG[self.code].fix)
        if self.suppressed:
            return text + f"\n  note: suppressed: {printable(self.suppressed)}"
        if self.acknowledged:
            return text + f"\n  note: acknowledged: {printable(self.acknowledged)}"
        return text + (f"\n  help: {fix}" if fix else "")


# Errors a person may take responsibility for (site.yaml `acknowledge:`): each guards a
# running migration against an edit that someone may, rarely, really mean.
ACKNOWLEDGEABLE = ("MTV095", "MTV121", "MTV126", "MTV127", "MTV128", "MTV130")


def finalize(diags, suppressions=(), strict=False, acknowledgements=()):
    """Deduplicate, sort, apply suppressions (never to errors), acknowledgements (only
    to the errors of ACKNOWLEDGEABLE) and --strict."""
    out = []
    for d in sorted(dict.fromkeys(diags), key=Diagnostic.sort_key):   # in order made: mostly sorted runs
        for s in suppressions:
            if s.matches(d) and d.level != ERROR:
                d = msgspec.structs.replace(d, suppressed=s.reason)
                break
        for a in acknowledgements:
            if a.matches(d) and d.level == ERROR and d.code in ACKNOWLEDGEABLE:
                d = msgspec.structs.replace(d, acknowledged=f"{a.reason} ({a.where})")
                break
        if strict and d.level == WARNING and not d.suppressed:
            d = msgspec.structs.replace(d, severity=ERROR)
        out.append(d)
    return out


def counts(diags) -> dict[str, int]:
    c = {ERROR: 0, WARNING: 0, INFO: 0, "suppressed": 0, "acknowledged": 0}
    for d in diags:
        c["suppressed" if d.suppressed else "acknowledged" if d.acknowledged else d.level] += 1
    return c


def has_errors(diags) -> bool:
    return any(d.level == ERROR and not d.suppressed and not d.acknowledged for d in diags)


def summary(diags) -> str:
    c = counts(diags)
    return (f"{c[ERROR]} error(s), {c[WARNING]} warning(s), {c[INFO]} note(s), "
            f"{c['suppressed']} suppressed" + (f", {c['acknowledged']} acknowledged" if c["acknowledged"] else ""))


# ------------------------------------------------------------------ formats

def as_text(diags, notes: bool = True) -> str:
    """Human output. Notes (info) can be left out: a 10,000-VM site may have
    thousands of renames, and the summary still counts them."""
    shown = [d for d in diags if notes or d.level != INFO or d.suppressed]
    hidden = len(diags) - len(shown)
    tail = f" ({hidden} note(s) not shown; use --notes)" if hidden else ""
    return "".join(f"{d}\n" for d in shown) + summary(diags) + tail + "\n"


def _as_dict(d: Diagnostic) -> dict:
    loc = d.location
    return {"code": d.code, "check": CATALOG[d.code].slug, "severity": d.level, "message": d.message,
            "help": d.help or CATALOG[d.code].fix, "file": loc.file if loc else None,
            "line": loc.line if loc else None, "column": loc.col if loc else None,
            "plan": d.plan or None, "vm": d.vm or None, "suppressed": d.suppressed or None,
            "acknowledged": d.acknowledged or None}


def as_json(diags) -> str:
    return json.dumps({"diagnostics": [_as_dict(d) for d in diags], "summary": counts(diags)}, indent=2) + "\n"


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def as_github(diags) -> str:
    """GitHub Actions workflow commands: one annotation per diagnostic."""
    lines = []
    for d in diags:
        if d.suppressed:
            continue
        cmd = "warning" if d.acknowledged else {ERROR: "error", WARNING: "warning", INFO: "notice"}[d.level]
        props = [f"title={_gh_escape(d.code + ' ' + CATALOG[d.code].slug, True)}"]
        if d.location:
            props.insert(0, f"file={_gh_escape(printable(d.location.file), True)}")
            if d.location.line:
                props.insert(1, f"line={d.location.line}")
            if d.location.col:
                props.insert(2, f"col={d.location.col}")
        msg = printable(d.message) + "\n" + printable(f"acknowledged: {d.acknowledged}" if d.acknowledged
                                                       else d.help or CATALOG[d.code].fix)
        lines.append(f"::{cmd} {','.join(props)}::{_gh_escape(msg)}")
    lines.append(summary(diags))
    return "\n".join(lines) + "\n"


def as_sarif(diags) -> str:
    """SARIF 2.1.0 for code-scanning UIs."""
    used = sorted({d.code for d in diags})
    rules = [{"id": c, "name": CATALOG[c].slug, "shortDescription": {"text": CATALOG[c].title},
              "help": {"text": CATALOG[c].fix},
              "defaultConfiguration": {"level": {ERROR: "error", WARNING: "warning", INFO: "note"}[CATALOG[c].severity]},
              "properties": {"prevents": CATALOG[c].prevents}} for c in used]
    results = []
    for d in diags:
        r = {"ruleId": d.code, "ruleIndex": used.index(d.code),
             "level": {ERROR: "error", WARNING: "warning", INFO: "note"}[d.level],
             "message": {"text": d.message + " Help: " + (d.help or CATALOG[d.code].fix)}}
        if d.location:
            region = {"startLine": d.location.line} if d.location.line else {}
            if d.location.col:
                region["startColumn"] = d.location.col
            phys = {"artifactLocation": {"uri": d.location.file}}
            if region:
                phys["region"] = region
            r["locations"] = [{"physicalLocation": phys}]
        if d.suppressed or d.acknowledged:
            r["suppressions"] = [{"kind": "inSource", "justification": d.suppressed or d.acknowledged}]
        results.append(r)
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "mtvgen", "version": __version__,
                                         "informationUri": "https://github.com/mtvgen/mtvgen", "rules": rules}},
                     "results": results}]}
    return json.dumps(doc, indent=2) + "\n"


FORMATS = {"text": as_text, "json": as_json, "github": as_github, "sarif": as_sarif}


def catalog_markdown() -> str:
    rows = ["| code | check | severity | catches | prevents | fix |", "|---|---|---|---|---|---|"]
    for c in CATALOG.values():
        rows.append(f"| {c.code} | `{c.slug}` | {c.severity} | {c.title} | {c.prevents or '—'} | {c.fix} |")
    return "\n".join(rows) + "\n"
