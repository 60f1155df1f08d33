"""The layers hold (docs/design.md): only the store speaks SQL, the rules import nothing
of the server, and the service layer never reaches for SQLAlchemy around the store."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("queue_server", "queue_common", "counter_client", "display_board",
            "ticket_printer")


def _imports(path: Path) -> set[str]:
    """Every module a file imports (also under TYPE_CHECKING and inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _files(*packages: str) -> list[Path]:
    return [f for pkg in packages for f in sorted((ROOT / pkg).rglob("*.py"))]


def test_only_the_store_imports_sqlalchemy() -> None:
    store = ROOT / "queue_server" / "store"
    offenders = [str(f.relative_to(ROOT)) for f in _files(*PACKAGES)
                 if store not in f.parents
                 and any(m == "sqlalchemy" or m.startswith("sqlalchemy.") for m in _imports(f))]
    assert offenders == []


def test_the_rules_import_nothing_of_the_server_but_the_rules() -> None:
    for f in _files("queue_server/domain"):
        outside = [m for m in _imports(f) if m.startswith("queue_server")
                   and not m.startswith("queue_server.domain")]
        assert outside == [], f
        assert not {m.split(".")[0] for m in _imports(f)} & {
            "sqlalchemy", "zmq", "threading", "time"}, f
