"""Resolution, checks and rendering never talk to a network: the offline stages
import no network client, and a build loads none."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import NOW, ROOT

NETWORK = ("pyVmomi", "pyVim", "kubernetes", "urllib3", "requests", "http.client", "socket", "ssl")
OFFLINE = ["spec", "resolve", "lock", "check", "plan_model", "render", "validate", "emit", "diagnostics",
           "names", "tables", "yamlio", "crdschema", "pipeline", "init"]


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield ("." * node.level) + (node.module or "")


def test_offline_stages_import_no_network_client():
    for name in OFFLINE:
        for mod in _imports(ROOT / "compiler" / f"{name}.py"):
            assert not mod.startswith(NETWORK), f"compiler/{name}.py imports {mod}"
            assert not mod.startswith((".inventory.vsphere", ".inventory.kube", ".inventory.forklift")), \
                f"compiler/{name}.py imports {mod}"


def test_a_build_loads_no_network_client(tmp_path):
    code = ("import sys; from compiler.cli import main\n"
            "try:\n    main(['build', '--out', sys.argv[1], '--now', sys.argv[2]])\nexcept SystemExit as e:\n"
            "    assert not e.code, e.code\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pyVmomi', 'pyVim', 'kubernetes'))\n"
            "assert not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out"), NOW], cwd=ROOT, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr


def test_schema_enums_match_the_tables():
    """The site schema and the Forklift schemas spell the same facts as compiler/tables.py."""
    from compiler import resources, tables
    site = resources.schema("site.schema.json")
    assert site["$defs"]["source"]["properties"]["type"]["enum"] == list(tables.PROVIDER_TYPES)
    plan = resources.schema("forklift/plan.json")["properties"]["spec"]
    assert set(tables.PLAN_TRUE_DEFAULTS) <= set(plan["required"])
    types = {t for p in tables.PROVIDER_TYPES.values() for t in p.migration_types}
    assert types <= set(plan["properties"]["type"]["enum"])
