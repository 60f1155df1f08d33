"""The shape of the tree (docs/design.md): the desktop apps do not need the server's
stack, only the store speaks SQL, and the rules import nothing of the server.

A kiosk, a board or a desk PC installs the client packages; if one of them imported
queue_server it would pull in SQLAlchemy, numpy and the hall's rules, and a change in
the server could break a screen. The check reads every module's imports (ast), so a
lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENT_PACKAGES = ("counter_client", "display_board", "ticket_printer")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


PACKAGES = (*CLIENT_PACKAGES, "queue_common")


def test_no_client_module_imports_the_server() -> None:
    offenders = {str(path.relative_to(ROOT)): sorted(
                     m for m in imported_modules(path)
                     if m == "queue_server" or m.startswith("queue_server."))
                 for package in PACKAGES for path in modules_of(package)}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_client_module_imports_sqlalchemy() -> None:
    offenders = [str(path.relative_to(ROOT)) for package in PACKAGES
                 for path in modules_of(package)
                 if any(m.split(".")[0] in ("sqlalchemy", "alembic")
                        for m in imported_modules(path))]
    assert offenders == []


def test_the_scan_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from queue_server import report\n    import queue_server.x\n")
    assert imported_modules(module) == {"queue_server", "queue_server.x"}


def test_queue_common_imports_tk_only_under_its_tk_package() -> None:
    """A server process imports queue_common; Tk belongs to the apps (and connection's
    Tk pump imports it lazily, inside attach_tk)."""
    top_level = [p for p in modules_of("queue_common") if "tk" not in p.relative_to(
        ROOT / "queue_common").parts[:1] and p.name != "tk_gc.py"]
    offenders = []
    for path in top_level:
        tree = ast.parse(path.read_text("utf-8"))
        for node in tree.body:  # module level only
            mods = ([a.name for a in node.names] if isinstance(node, ast.Import)
                    else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(m.split(".")[0] == "tkinter" for m in mods):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []

def _files(*packages: str) -> list[Path]:
    return [f for pkg in packages for f in sorted((ROOT / pkg).rglob("*.py"))]


def test_only_the_store_imports_sqlalchemy() -> None:
    store = ROOT / "queue_server" / "store"
    offenders = [str(f.relative_to(ROOT)) for f in _files(*PACKAGES, "queue_server")
                 if store not in f.parents
                 and any(m == "sqlalchemy" or m.startswith("sqlalchemy.") for m in imported_modules(f))]
    assert offenders == []


def test_the_rules_import_nothing_of_the_server_but_the_rules() -> None:
    for f in _files("queue_server/domain"):
        outside = [m for m in imported_modules(f) if m.startswith("queue_server")
                   and not m.startswith("queue_server.domain")]
        assert outside == [], f
        assert not {m.split(".")[0] for m in imported_modules(f)} & {
            "sqlalchemy", "zmq", "threading", "time"}, f
