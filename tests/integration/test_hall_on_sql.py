"""The hall tests of tests/unit again, on SQLite and PostgreSQL.

tests/unit plays them on the in-memory store (the rules, in milliseconds); here the same
functions run with the ``hall_backend`` fixture overridden, so every rule is also checked
through the real store: the rows the batches write, the reads the live state is built
from, a fresh load after every scripted day (check_invariants), a restart. Random days
(the stateful test) are played on SQLite.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.unit import (
    test_estimate_append,
    test_hall_bookings,
    test_hall_carry,
    test_hall_day,
    test_hall_flow,
    test_hall_login_check,
    test_hall_logins,
    test_hall_memory,
    test_hall_midnight,
    test_hall_pipeline,
    test_hall_rules,
    test_hall_stateful,
    test_hall_trust,
    test_supervisor_actions,
    test_window_queue,
)

MODULES: tuple[ModuleType, ...] = (
    test_hall_rules, test_hall_flow, test_hall_logins, test_hall_login_check, test_hall_day,
    test_window_queue, test_supervisor_actions, test_estimate_append, test_hall_pipeline,
    test_hall_bookings, test_hall_trust, test_hall_midnight, test_hall_memory, test_hall_carry)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def hall_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _takes_a_kit(fn: object) -> bool:
    """Tests that get their hall from the kit / new_kit fixtures (the others build
    their own: pure or hypothesis-driven ones, played on the in-memory store only)."""
    names = getattr(fn, "__code__", None)
    args = names.co_varnames[:names.co_argcount] if names is not None else ()
    return "kit" in args or "new_kit" in args


def _is_fixture(obj: object) -> bool:
    return type(obj).__name__ == "FixtureFunctionDefinition" or hasattr(
        obj, "_pytestfixturefunction")


for _module in MODULES:
    _prefix = _module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    for _name, _fn in vars(_module).items():
        if _name.startswith("test_") and callable(_fn) and _takes_a_kit(_fn):
            globals()[f"test_{_prefix}__{_name.removeprefix('test_')}"] = _fn
        elif _is_fixture(_fn) and _name != "hall_backend":  # the module's own fixtures
            assert _name not in globals(), f"two modules define the fixture {_name}"
            globals()[_name] = _fn


class SQLiteHallDay(test_hall_stateful.HallDay):
    backend = "sqlite"


SQLiteHallDay.TestCase.settings = test_hall_stateful.HallDay.TestCase.settings
test_random_hall_days_on_sqlite_keep_the_rules = SQLiteHallDay.TestCase


class SQLiteKeepingHallDays(test_hall_stateful.KeepingHallDays):
    backend = "sqlite"


SQLiteKeepingHallDays.TestCase.settings = test_hall_stateful.HallDay.TestCase.settings
test_random_days_keeping_the_waiting_on_sqlite = SQLiteKeepingHallDays.TestCase
