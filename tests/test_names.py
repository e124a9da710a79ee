"""Forklift's renaming of VMs whose names are not DNS-1123 (kubev2v/forklift
d42511b pkg/controller/plan/util/utils.go ChangeVmName), case by case, and the
stable shortening of generated object names."""

from __future__ import annotations

import pytest

from compiler import names

# source name -> what ChangeVmName gives (worked by hand through the Go code)
CHANGE_VM_NAME = [
    ("App  Server", "app-server"),                   # repeated dashes collapse
    ("DB_01.Prod", "db-01.prod"),                    # _ -> -, labels kept
    ("web..example", "web.example"),                 # empty labels dropped
    ("-lead.trail-", "lead.trail"),                  # trimmed of '.' and '-'
    ("a+b*c/d\\e", "a-b-c-d-e"),
    ("Ünïcode VM", "ncode-vm"),                      # other characters dropped
    ("x" * 70, "x" * 63),                            # a label is cut at 63
    ("label." + "y" * 70, ("label." + "y" * 63)[:63]),   # and the whole name at 63
    ("part-.-end", "part.end"),
    ("a--b", "a-b"),
    ("...", ""),                                     # Forklift draws vm-<random>; mtvgen decides (below)
    ("x" * 62 + "-yyyyy", "x" * 62),                 # a label cut at 63 loses the dash it ends on
    ("a" * 62 + ".bbb", "a" * 62),                   # the whole name cut at 63 loses the dot it ends on
]


@pytest.mark.parametrize("source,want", CHANGE_VM_NAME)
def test_forklift_vm_name(source, want):
    assert names.forklift_vm_name(source) == want


def test_target_name_keeps_valid_names_and_never_draws_at_random():
    assert names.target_vm_name("db-02.example", "vm-1") == "db-02.example"
    assert names.target_vm_name("DB-02", "vm-1") == "db-02"
    empty = names.target_vm_name("...", "vm-42")
    assert empty == names.target_vm_name("...", "vm-42") and empty.startswith("vm-") and names.is_label(empty)
    assert names.target_vm_name("...", "vm-43") != empty


def test_a_label_collapses_dashes_and_a_cut_never_leaves_one_before_the_hash():
    got = names.to_label("a--b")
    assert got.startswith("a-b-") and names.is_label(got) and got != names.to_label("a-b-")
    long = names.to_label("a" * 55 + "-b!")                  # the cut falls right after the dash
    assert long == "a" * 55 + "-" + names.digest("a" * 55 + "-b!") and "--" not in long


def test_a_valid_name_of_63_characters_is_kept_as_it_is():
    name = "a--" + "b" * 60                                  # valid DNS-1123; ChangeVmName would collapse the --
    assert len(name) == 63 and names.target_vm_name(name, "vm-1") == name


def test_a_reference_drops_a_name_no_kubernetes_tool_writes():
    assert names.ref("vm-1", "db 01") == {"id": "vm-1", "name": "db 01"}
    assert names.ref("vm-2", "db\x7f01") == {"id": "vm-2"}         # DEL
    assert names.ref("vm-3", "db\x9f") == {"id": "vm-3"}            # a C1 control (NEL, \x85, is printable)


def test_object_names_are_stable_and_distinct():
    a, b = names.to_label("dc1-App Server"), names.to_label("dc1-app-server")
    assert a != b and names.is_label(a) and b == "dc1-app-server"
    long = names.to_label("site-" + "p" * 80)
    assert len(long) <= 63 and long == names.to_label("site-" + "p" * 80)
