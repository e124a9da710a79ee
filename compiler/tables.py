"""One table per fact. Everything else looks facts up here."""

from __future__ import annotations

import msgspec



API = "forklift.konveyor.io/v1beta1"


class Kind(msgspec.Struct, frozen=True):
    kind: str
    api_version: str
    wave: int                  # Argo CD sync wave inside its unit: a lower wave is applied (and must be healthy) first
    template: str | None       # templates/*.j2 (None: written by the delivery stage or passed through)
    schema: str | None         # file in schemas/forklift/ (None: not a Forklift kind)
    health: str | None = None  # Argo CD health script in templates/health/ (None: Argo CD knows the kind)


# Order of this table = order of objects of one wave in a unit's kustomization.yaml.
# Waves: credentials, then Providers, then what refers to a Provider, then the Plan, then its Migrations.
KINDS: dict[str, Kind] = {k.kind: k for k in (
    Kind("ExternalSecret", "external-secrets.io/v1", 0, "externalsecret.yaml.j2", None),
    Kind("SealedSecret", "bitnami.com/v1alpha1", 0, None, None),
    Kind("Secret", "v1", 0, "secret.yaml.j2", None),
    Kind("Provider", API, 1, "provider.yaml.j2", "provider.json", "Provider.lua"),
    Kind("Host", API, 2, "host.yaml.j2", "host.json", "Host.lua"),
    Kind("NetworkMap", API, 2, "networkmap.yaml.j2", "networkmap.json", "Ready.lua"),
    Kind("StorageMap", API, 2, "storagemap.yaml.j2", "storagemap.json", "Ready.lua"),
    Kind("Hook", API, 2, "hook.yaml.j2", "hook.json", "Ready.lua"),
    Kind("Plan", API, 3, "plan.yaml.j2", "plan.json", "Plan.lua"),
    Kind("Migration", API, 4, "migration.yaml.j2", "migration.json", "Migration.lua"),
    # delivery objects (compiler/delivery)
    Kind("AppProject", "argoproj.io/v1alpha1", 0, None, None),
    Kind("Application", "argoproj.io/v1alpha1", 1, None, None, "Application.lua"),
    Kind("GitRepository", "source.toolkit.fluxcd.io/v1", 0, None, None),
    Kind("Kustomization", "kustomize.toolkit.fluxcd.io/v1", 0, None, None),
)}
FORKLIFT_KINDS = tuple(k.kind for k in KINDS.values() if k.api_version == API)


class ProviderType(msgspec.Struct, frozen=True):
    name: str
    secret_keys: tuple[str, ...]      # credential keys: never in Git in plaintext
    needs_ca: bool                    # `ca.crt` required unless insecureSkipVerify
    literal_keys: tuple[str, ...]     # non-secret Secret keys the spec may set
    migration_types: tuple[str, ...]  # Plan.spec.type values the controller accepts
    has_hosts: bool                   # Host CRs (ESXi transfer interfaces)
    storage_word: str                 # what a storage-map source is called
    url_hint: str
    needs_url: bool = True            # EC2: the region (a Secret key) says where, not a URL
    required_data: tuple[str, ...] = ()      # non-secret Secret keys Forklift needs (credentials.data)
    required_settings: tuple[str, ...] = ()  # Provider spec.settings Forklift needs
    # how its scheduler counts MAX_VM_INFLIGHT (pkg/controller/plan/scheduler/<type>/scheduler.go):
    in_flight_per_host: bool = False         # per source host (vsphere, hyperv), not across the provider
    in_flight_in_disks: bool = False         # in disks not yet copied, unless virt-v2v copies the VM (vsphere)


PROVIDER_TYPES: dict[str, ProviderType] = {p.name: p for p in (
    ProviderType("vsphere", ("user", "password"), True, ("url", "insecureSkipVerify"),
                 ("cold", "warm", "conversion"), True, "datastore", "https://<vcenter>/sdk",
                 in_flight_per_host=True, in_flight_in_disks=True),
    ProviderType("ovirt", ("user", "password"), True, ("url", "insecureSkipVerify"),
                 ("cold", "warm"), False, "storage domain", "https://<engine>/ovirt-engine/api"),
    ProviderType("openstack", ("username", "password"), False,
                 ("url", "insecureSkipVerify", "domainName", "projectName", "regionName",
                  "userDomainName", "projectDomainName", "authType", "availability"),
                 ("cold",), False, "volume type", "https://<keystone>:5000/v3"),
    ProviderType("ova", (), False, ("url",), ("cold",), False, "storage", "<nfs-server>:/<export>"),
    ProviderType("openshift", ("token",), False, ("url", "insecureSkipVerify"),
                 ("cold", "live"), False, "storage class", "https://api.<cluster>:6443"),
    # kubev2v/forklift d42511b pkg/provider/ec2 (README: Secret region, accessKeyId,
    # secretAccessKey, optional targetAccessKeyId/targetSecretAccessKey; settings target-az)
    ProviderType("ec2", ("accessKeyId", "secretAccessKey"), False, ("region",), ("cold",), False, "volume type", "",
                 needs_url=False, required_data=("region",), required_settings=("target-az",)),
    # pkg/controller/hyperv/secret.go: username, password, smbUrl (smbUser/smbPassword optional)
    ProviderType("hyperv", ("username", "password"), False, ("url", "insecureSkipVerify", "smbUrl"), ("cold",), False,
                 "storage", "https://<hyperv-host>", required_data=("smbUrl",), in_flight_per_host=True),
    # pkg/controller/provider/container/nutanix/client.go: user, password; cacert optional
    ProviderType("nutanix", ("user", "password"), False, ("url", "insecureSkipVerify"), ("cold",), False,
                 "storage container", "https://<prism-central>:9440"),
)}

# Plan booleans whose CRD default is `true`: omitting a `false` turns it into `true`,
# so these are always written out (forklift-api.md 5.1; plans CRD).
PLAN_TRUE_DEFAULTS = ("preserveStaticIPs", "migrateSharedDisks", "runPreflightInspection",
                      "useCompatibilityMode", "deleteVmOnFailMigration")

# Labels on every object mtvgen writes.
MANAGED_BY = {"app.kubernetes.io/managed-by": "mtvgen", "app.kubernetes.io/part-of": "mtvgen"}
SITE_LABEL = "mtvgen.io/site"
PLAN_LABEL = "mtvgen.io/plan"


# Plan options that are plan-level fields in Forklift (copied as given).
PLAN_SPEC_FIELDS = ("preserveClusterCpuModel", "skipGuestConversion", "serviceAccount", "virtV2vImage",
                    "targetLabels", "targetNodeSelector", "archived", "targetPowerState",
                    "pvcNameTemplate", "volumeNameTemplate", "networkNameTemplate", "targetAffinity",
                    "convertorAffinity", "convertorLabels", "convertorNodeSelector", "conversionTempStorageClass",
                    "conversionTempStorageSize", "customizationScripts", "deleteGuestConversionPod",
                    "enableNestedVirtualization", "installLegacyDrivers", "pvcNameTemplateUseGenerateName",
                    "rdmAsLun", "scsiReservation", "skipZoneNodeSelector", "xfsCompatibility", "tagMapping")
# VM-level fields an override may set (Forklift Plan.spec.vms[]).
PLAN_VM_FIELDS = ("targetPowerState", "rootDisk", "instanceType", "nbdeClevis", "pvcNameTemplate",
                  "volumeNameTemplate", "networkNameTemplate", "deleteVmOnFailMigration", "migrateSharedDisks",
                  "enableNestedVirtualization", "rdmAsLun", "scsiReservation")
PLAN_VM_ONLY = ("rootDisk", "instanceType", "nbdeClevis")  # exist only per VM in Forklift


# Plan fields (upstream Plan CRD: spec, spec.vms[]) the site spec does not take as an
# option of the same name: what mtvgen writes instead. Every other field is a plan or
# VM option (schemas/site.schema.json planOptions / vmOptions); tests/test_plan_api.py
# walks the CRD and fails on a field that is in neither.
PLAN_DERIVED = {
    "provider": "the site's source and destination Providers",
    "map": "the NetworkMap and StorageMap built from `networks:`/`storage:` (or the plan's own)",
    "vms": "the plan's `select:`/`exclude:`, resolved in the lock",
    "warm": "not written: deprecated upstream; `type: warm` says it",
    "diskBus": "not written: deprecated upstream since 2.8",
}
PLAN_VM_DERIVED = {
    "id": "the VM's inventory id from the lock",
    "name": "the VM's inventory name from the lock",
    "namespace": "OpenShift sources: the VM's namespace from the lock",
    "targetName": "the lock's DNS-safe name, or the override's `targetName:`",
    "hooks": "`preHook:` / `postHook:` (plan, default or override)",
    "luks": "`luksSecret:` (a Secret in the MTV namespace)",
    "type": "not written: VMs are named by id, which needs no qualifier",
}
