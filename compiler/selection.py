"""`where:`: a selector written in CEL (the expression language of Kubernetes and Flux)
over one VM model, the same for every source type where the source has the fact.

The model is one table (FIELDS): its CEL name, its protobuf type, what it means and
how it is read from an inventory VM. From it come the protobuf message CEL type-checks
an expression against (so `vm.memoryMb` is an error when the spec loads, with the
field names that exist), the message each VM is evaluated as, the facts a source must
read of every VM before selecting, and the README's table.

In: an expression (and where the spec has it); a VM and its inventory. Out: compile
diagnostics at the expression's line and column; whether the VM matches, or why it
could not be evaluated. Pure: no I/O.
"""

from __future__ import annotations

import difflib
import functools
import re
from typing import Callable

import msgspec

from .diagnostics import Diagnostic
from .errors import Location
from .inventory.model import VM, Inventory, name_of

GIB = 2**30


class Field(msgspec.Struct, frozen=True):
    name: str
    type: str             # string | int | bool | strings | map | tags | concerns
    doc: str
    read: Callable[[VM, Inventory], object]


def _names(records: dict, ids) -> list[str]:
    return [name_of(records, i) for i in ids]


FIELDS: tuple[Field, ...] = (
    Field("name", "string", "VM name", lambda v, i: v.name),
    Field("id", "string", "VM id (vSphere moRef, UUID, Kubernetes UID)", lambda v, i: v.id),
    Field("path", "string", "inventory path (/DC/vm/folder/name; OpenShift: namespace/name)", lambda v, i: v.path),
    Field("folder", "string", "the folder it is in", lambda v, i: v.folder),
    Field("datacenter", "string", "datacenter (oVirt: data center; OpenStack: project)", lambda v, i: v.datacenter),
    Field("cluster", "string", "cluster", lambda v, i: v.cluster),
    Field("host", "string", "host name", lambda v, i: name_of(i.hosts, v.host)),
    Field("namespace", "string", "namespace (OpenShift sources)", lambda v, i: v.namespace),
    Field("powerState", "string", "poweredOn, poweredOff or suspended", lambda v, i: v.power_state),
    Field("firmware", "string", "bios or efi", lambda v, i: v.firmware),
    Field("guestId", "string", "guest OS id (vSphere: rhel9_64Guest)", lambda v, i: v.guest_id),
    Field("guestName", "string", "guest OS as the tools report it", lambda v, i: v.guest_name),
    Field("cpuCount", "int", "virtual CPUs", lambda v, i: v.cpu_count),
    Field("memoryMiB", "int", "memory in MiB", lambda v, i: v.memory_mib),
    Field("diskCount", "int", "number of disks", lambda v, i: len(v.disks)),
    # an int, not a double: CEL compares no int with a double, and `vm.diskGiB >= 10` must work
    Field("diskGiB", "int", "total disk size in GiB, rounded up", lambda v, i: -(-sum(d.capacity for d in v.disks) // GIB)),
    Field("datastores", "strings", "names of the datastores (storage) its disks are on",
          lambda v, i: _names(i.datastores, v.datastore_ids)),
    Field("networks", "strings", "names of the networks its NICs are on", lambda v, i: _names(i.networks, v.network_ids)),
    Field("ipAddresses", "strings", "guest IP addresses", lambda v, i: list(v.ip_addresses)),
    Field("isTemplate", "bool", "a template (never selected)", lambda v, i: v.is_template),
    Field("hasSnapshot", "bool", "has snapshots", lambda v, i: v.has_snapshot),
    Field("changeTracking", "bool", "CBT enabled (warm migration needs it)", lambda v, i: v.change_tracking),
    Field("tags", "tags", "tag category -> its tags: `'prod' in vm.tags['env']` (vSphere; OpenStack tags under '')",
          lambda v, i: v.tags),
    Field("attributes", "map", "custom attribute -> value", lambda v, i: dict(v.attributes)),
    Field("concerns", "concerns", "Forklift's concerns: {category, label}: "
          "`vm.concerns.exists(c, c.category == 'Critical')`", lambda v, i: v.concerns),
)
BY_NAME = {f.name: f for f in FIELDS}


class CelError(Exception):
    def __init__(self, message: str, line: int = 0, col: int = 0):
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


@functools.lru_cache(maxsize=1)
def _model():
    """The protobuf message type `vm` has (built from FIELDS once), and a CEL environment
    that declares `vm` of that type."""
    from cel_expr_python import cel
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from google.protobuf import struct_pb2  # noqa: F401  (puts ListValue in the default pool)

    F = descriptor_pb2.FieldDescriptorProto
    scalar = {"string": F.TYPE_STRING, "int": F.TYPE_INT64, "bool": F.TYPE_BOOL}
    file = descriptor_pb2.FileDescriptorProto(name="mtvgen/vm.proto", package="mtvgen", syntax="proto3",
                                              dependency=["google/protobuf/struct.proto"])
    concern = file.message_type.add(name="Concern")
    for n, name in enumerate(("category", "label"), 1):
        concern.field.add(name=name, number=n, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    vm = file.message_type.add(name="VM")
    for number, f in enumerate(FIELDS, 1):
        if f.type in scalar:
            vm.field.add(name=f.name, number=number, type=scalar[f.type], label=F.LABEL_OPTIONAL)
        elif f.type == "strings":
            vm.field.add(name=f.name, number=number, type=F.TYPE_STRING, label=F.LABEL_REPEATED)
        elif f.type == "concerns":
            vm.field.add(name=f.name, number=number, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED,
                         type_name=".mtvgen.Concern")
        else:       # map<string, string> or map<string, ListValue>: a map is a repeated entry message
            entry = vm.nested_type.add(name=f.name[0].upper() + f.name[1:] + "Entry")
            entry.options.map_entry = True
            entry.field.add(name="key", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
            if f.type == "map":
                entry.field.add(name="value", number=2, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
            else:
                entry.field.add(name="value", number=2, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL,
                                type_name=".google.protobuf.ListValue")
            vm.field.add(name=f.name, number=number, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED,
                         type_name=f".mtvgen.VM.{entry.name}")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(descriptor_pb2.FileDescriptorProto.FromString(
        struct_pb2.DESCRIPTOR.serialized_pb))        # the well-known ListValue, in our own pool
    pool.Add(file)
    message = message_factory.GetMessageClass(pool.FindMessageTypeByName("mtvgen.VM"))
    return cel, message, cel.NewEnv(pool, variables={"vm": cel.Type("mtvgen.VM")})


_WHERE = re.compile(r"ERROR: <input>:(\d+):(\d+): (.*?)(?:\n|$)")


@functools.lru_cache(maxsize=256)
def compile(expression: str):
    """A checked program for `expression`, or CelError (the first error, with its line and
    column inside the expression). It must be a boolean."""
    cel, _, env = _model()
    try:
        program = env.compile(expression)
    except RuntimeError as exc:
        m = _WHERE.search(str(exc))
        if m is None:
            raise CelError(str(exc).removeprefix("INVALID_ARGUMENT: ").strip()) from None
        raise CelError(m.group(3), int(m.group(1)), int(m.group(2))) from None
    if program.return_type() != cel.Type.BOOL:
        raise CelError(f"it gives {program.return_type().name().lower()} values, not true or false")
    return program


def diagnostics(expression: str, where: Location, line_text: str = "", plan: str = "") -> list[Diagnostic]:
    """MTV027 at the expression's own line and column when it does not compile. `where`:
    the value's position in the spec; `line_text`: that line (a quote before the value
    moves the column by one)."""
    try:
        compile(expression)
    except CelError as exc:
        at = where
        if exc.line == 1 and where.line:       # a one-line expression: point into it
            quoted = where.col and line_text[where.col - 1:where.col] in ("'", '"')
            at = Location(where.file, where.line, where.col + exc.col - (0 if quoted else 1))
        elif exc.line:
            at = Location(where.file, where.line + exc.line, 0)
        fields = ", ".join(f.name for f in FIELDS)
        message, hint = exc.message, "CEL, as Kubernetes and Flux use it: `vm.cpuCount <= 4 && 'prod' in vm.tags['env']`"
        unknown = re.search(r"undefined field '(\w+)'", message)
        if unknown:
            near = difflib.get_close_matches(unknown.group(1), list(BY_NAME), n=1)
            message = f"vm has no field '{unknown.group(1)}'" + (f"; did you mean '{near[0]}'?" if near else "")
        if "(list(dyn), string)" in message or "(list(string), string)" in message:
            hint = "a tag category holds a list of tags: ask `'prod' in vm.tags['env']`, not `==`"
        if unknown or "undeclared reference" in message:
            hint = f"the VM is `vm`, with the fields: {fields}"
        return [Diagnostic("MTV027", f"where: {message}", at, hint, plan=plan)]
    return []


@functools.lru_cache(maxsize=256)
def fields_used(expression: str) -> frozenset[str]:
    """The VM facts an expression reads (what a source must read of every VM)."""
    return frozenset(name for name in re.findall(r"\bvm\s*\.\s*([A-Za-z_]\w*)", expression) if name in BY_NAME)


def message(vm: VM, inv: Inventory, fields=None):
    """`vm` as the CEL message (only `fields`, when given: the others stay empty)."""
    _, cls, _ = _model()
    msg = cls()
    for f in FIELDS if fields is None else (BY_NAME[n] for n in fields):
        value = f.read(vm, inv)
        if f.type in ("string", "int", "bool"):
            setattr(msg, f.name, value)
        elif f.type == "strings":
            getattr(msg, f.name).extend(value)
        elif f.type == "map":
            getattr(msg, f.name).update(value)
        elif f.type == "tags":
            for category, tag in value:
                getattr(msg, f.name)[category].append(tag)
        else:
            for c, label in value:
                getattr(msg, f.name).add(category=c, label=label)
    return msg


def matches(expression: str, vm: VM, inv: Inventory) -> bool | str:
    """True or False; a string says why the VM could not be judged (a missing map key,
    say): it is not selected, and the caller reports it."""
    cel, _, _ = _model()
    result = compile(expression).eval(data={"vm": message(vm, inv, fields_used(expression) or None)})
    if result.type() == cel.Type.BOOL:
        return bool(result.value())
    return re.sub(r"^[A-Z_]+: ", "", str(result.value()))     # the status code is noise here
