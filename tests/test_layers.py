"""Resolution, checks and rendering never talk to a network: the offline stages
import no network client, and a build loads none."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import NOW, ROOT

NETWORK = ("pyVmomi", "pyVim", "kubernetes", "urllib3", "requests", "http.client", "socket", "ssl")
OFFLINE = ["spec", "resolve", "lock", "check", "plan_model", "render", "validate", "emit", "diagnostics",
           "names", "tables", "yamlio", "yamlout", "schemacheck", "urls", "crdschema", "pipeline", "init", "documents", "secretfiles",
           "delivery/__init__", "delivery/units", "delivery/argocd", "delivery/flux", "delivery/health",
           "sitemodel", "spec_rules", "lockdiff", "lifecycle", "files", "profile", "forklift_fields", "verify"]


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
            mod = mod.replace("..", ".", 1) if name.startswith("delivery/") else mod
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


def test_lock_edits_and_pulled_schemas_write_files_without_emit():
    """Atomic writes live below the stages (compiler/files.py): the lock, edits and pulled
    schemas do not lean on emit, and through it on delivery."""
    graph = import_graph()
    for mod in ("compiler.lock", "compiler.edit", "compiler.crdschema", "compiler.spec"):
        assert "compiler.emit" not in graph[mod], mod
        assert "compiler.delivery" not in graph[mod], mod
    assert graph["compiler.files"] <= {"compiler.errors"}


def import_graph() -> dict[str, set[str]]:
    """compiler module -> the compiler modules it imports (relative imports, `from . import x` included)."""
    files = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
             for p in sorted((ROOT / "compiler").rglob("*.py"))}
    graph = {}
    for mod, path in files.items():
        pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = ".".join(pkg.split(".")[: len(pkg.split(".")) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
                submodules = {f"{target}.{a.name}" for a in node.names} & set(files)
                # `from . import health` needs the module health, not the package's __init__
                deps.update(submodules if submodules and not node.module else {target} | submodules)
        graph[mod] = {d for d in deps if d in files and d != mod}
    return graph


def test_no_import_cycles_between_compiler_modules():
    graph, state, stack = import_graph(), {}, []
    assert "compiler.render" in graph["compiler.pipeline"]          # the graph sees `from . import render`

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for d in sorted(graph[m]):
            assert state.get(d) != "open", "import cycle: " + " -> ".join(stack[stack.index(d):] + [d])
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_under_ci_a_skip_is_a_failure(tmp_path):
    """The conftest hook that keeps CI honest: a test that skips under CI=1 fails."""
    import os
    import shutil
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    cases = {
        "test_skips.py": "import pytest\n\ndef test_x():\n    pytest.skip('no tool')\n",
        "test_collect_skip.py": "import pytest\n\npytest.importorskip('no_such_module_here')\n\ndef test_y():\n    pass\n",
        "test_xfail.py": "import pytest\n\n@pytest.mark.xfail(reason='known')\ndef test_z():\n    assert False\n",
        "test_xpass.py": "import pytest\n\n@pytest.mark.xfail(reason='known')\ndef test_w():\n    pass\n",
    }
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        for ci, want in (("", {0, 5}), ("1", {1, 2})):  # 5: no test ran; 2: a collection error
            env["CI"] = ci
            r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name],
                               cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
            assert r.returncode in want, (name, ci, r.stdout)
        (tmp_path / name).unlink()
