"""Suite-wide fixtures: the PostgreSQL URL and where test artifacts (screenshots) go."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots, WAVs and ticket PNGs the tests save for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def pytest_configure(config: pytest.Config) -> None:
    """No automatic garbage collection in the test process (see queue_common.tk_gc).

    Tests create and destroy many Tk roots while connection and speech threads run;
    a collection on one of those threads that frees a dead test's Tk objects aborts
    the whole run. Garbage is collected after each test, on the main thread.
    """
    gc.disable()


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the modules and the collection made lives for the whole run: out of the
    collector's sight (gc.freeze), so the collection after each test scans only what
    tests made (a full scan of ~100,000 objects per test was most of tests/unit's time)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _collect_garbage_on_main_thread() -> Iterator[None]:
    yield
    gc.collect()


def postgres_url() -> str | None:
    """QUEUE_TEST_PG_URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test."""
    return os.environ.get("QUEUE_TEST_PG_URL") or None


def pytest_report_header(config: pytest.Config) -> str:
    url = postgres_url()
    return f"postgresql: {url}" if url else (
        "postgresql: QUEUE_TEST_PG_URL not set: PostgreSQL tests will be SKIPPED")


@pytest.fixture
def pg_schemas() -> Iterator[Callable[[], str]]:
    """A factory of fresh PostgreSQL schemas for one test (parallel runs never collide),
    each dropped afterwards; skips the test when PostgreSQL is not configured."""
    import uuid

    from sqlalchemy import create_engine, text

    base = postgres_url()
    if not base:
        pytest.skip("PostgreSQL not configured: set QUEUE_TEST_PG_URL to run this test")
    admin = create_engine(base)
    made: list[str] = []

    def schema_url() -> str:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        try:
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        except Exception as exc:  # configured but unreachable is a failure, not a skip
            raise RuntimeError(f"QUEUE_TEST_PG_URL={base} is set but unusable: {exc}") from exc
        made.append(schema)
        sep = "&" if "?" in base else "?"
        return f"{base}{sep}options=-csearch_path%3D{schema}"

    yield schema_url
    with admin.begin() as conn:
        for schema in made:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def pg_url(pg_schemas: Callable[[], str]) -> str:
    """A fresh PostgreSQL schema for one test, else skip."""
    return pg_schemas()


@pytest.fixture
def hall_backend() -> str:
    """Where a hall test's database is: the in-memory store in tests/unit;
    tests/integration/test_hall_on_sql.py runs the same tests on "sqlite" and
    "postgresql" by overriding this fixture."""
    return "memory"


@pytest.fixture
def new_kit(hall_backend: str, tmp_path: Path, request: pytest.FixtureRequest
            ) -> Callable[..., Any]:
    """HallKit.create on this test's backend: new_kit(extra=..., start=...)."""
    from tests.support.hallkit import HallKit

    made: list[Any] = []

    def make(**options: Any) -> HallKit:
        if hall_backend == "postgresql":  # each hall its own schema
            options["url"] = request.getfixturevalue("pg_schemas")()
        else:
            options.setdefault("backend", hall_backend)
        kit = HallKit.create(tmp_path / f"hall{len(made)}" if made else tmp_path, **options)
        made.append(kit)
        return kit

    yield make
    for kit in made:
        kit.hall.close()


@pytest.fixture
def kit(new_kit: Callable[..., Any]) -> Any:
    """A small hall at 09:00 on a Thursday (tests/support/hallkit.py) on this test's
    backend."""
    return new_kit()
