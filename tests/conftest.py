"""Suite-wide fixtures: the PostgreSQL URL and where test artifacts (screenshots) go."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots, WAVs and ticket PNGs the tests save for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def postgres_url() -> str | None:
    """QUEUE_TEST_PG_URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test."""
    return os.environ.get("QUEUE_TEST_PG_URL") or None


def pytest_report_header(config: pytest.Config) -> str:
    url = postgres_url()
    return f"postgresql: {url}" if url else (
        "postgresql: QUEUE_TEST_PG_URL not set: PostgreSQL tests will be SKIPPED")
