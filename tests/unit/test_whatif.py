"""The what-if's promises on the real hall (queue_server.whatif): the same draws under
every plan, more windows never longer waits, a plan changes what it says it changes."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server import whatif
from queue_server.config import parse_config
from tests.support.hallkit import SMALL_HALL

CFG = parse_config(SMALL_HALL, "whatif-test.toml")
DAY = dt.date(2026, 11, 26)  # Thursday, 08:30-16:30


def profile(per_quarter: float, windows: tuple[int, ...], *, no_show: float = 0.0,
            visits: list[tuple[tuple[str, ...], str, str | None]] | None = None
            ) -> whatif.Profile:
    return whatif.Profile(
        day=DAY, days=[DAY], arrivals={q: per_quarter for q in range(36, 44)},  # 09-11
        visits=visits or [(("RS01",), "normal", None), (("YB01",), "normal", None)],
        no_show_rate=no_show, walkups=[30.0], no_show_waits=[120.0], service={},
        staffing={h: windows for h in range(8, 17)})


def mean_wait(p: whatif.Profile, plan: whatif.Plan, seed: int) -> float:
    figures = whatif.play(CFG, plan, p, whatif.draw(p, CFG, seed))
    return float(figures["totals"]["mean_wait"] or 0.0)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), per_quarter=st.floats(1.0, 6.0),
       fewer=st.integers(1, 2))
def test_more_windows_never_predict_longer_mean_waits_on_the_same_draws(
        seed: int, per_quarter: float, fewer: int) -> None:
    """Windows 1-3 take the general matters: one window more, same citizens, no longer
    mean wait (first come first served among equals, service times fixed per citizen)."""
    p = profile(per_quarter, (1, 2, 3))
    less = whatif.Plan(windows={h: tuple(range(1, fewer + 1)) for h in range(8, 17)})
    more = whatif.Plan(windows={h: tuple(range(1, fewer + 2)) for h in range(8, 17)})
    assert mean_wait(p, more, seed) <= mean_wait(p, less, seed) + 1e-6


def test_every_plan_meets_the_same_citizens() -> None:
    p = profile(3.0, (1, 2))
    assert whatif.draw(p, CFG, 7) == whatif.draw(p, CFG, 7)
    assert whatif.draw(p, CFG, 7) != whatif.draw(p, CFG, 8)


def test_a_window_of_its_own_for_the_specialised_matter_takes_it_off_the_others() -> None:
    """残联 (CL01) visits: with window 3 taking only CL01 it is busy with nothing else;
    windows 1 and 2 never serve CL01 (they cannot), and the plan shows window 3."""
    visits = [(("RS01",), "normal", None)] * 3 + [(("CL01",), "normal", None)]
    p = profile(3.0, (1, 2, 3), visits=visits)
    plan = whatif.Plan(matters={3: ("CL01",)})
    result = whatif.compare(CFG, p, plan, replications=2, seed=3)
    assert result["plan"]["matters"] == {"3": ["CL01"]}
    own = result["changed"]["totals"]["utilisation"]["3"]["mean"]
    shared = result["unchanged"]["totals"]["utilisation"]["3"]["mean"]
    assert own < shared  # it no longer takes the general matters


def test_a_priority_credit_costs_ordinary_citizens_at_most_the_credit() -> None:
    """docs/policy.md: an ordinary citizen waits at most the largest credit longer."""
    visits = [(("RS01",), "normal", None)] * 3 + [(("RS01",), "priority", "elderly")]
    p = profile(5.0, (1,), visits=visits)
    none = whatif.Plan(priority_credits={"elderly": 0.0})
    thirty = whatif.Plan(priority_credits={"elderly": 30.0})
    citizens = whatif.draw(p, CFG, 11)
    plain = whatif.play(CFG, none, p, citizens)["totals"]["max_ordinary_wait"]
    credited = whatif.play(CFG, thirty, p, citizens)["totals"]["max_ordinary_wait"]
    assert plain <= credited <= plain + 30 * 60 + 1e-6


def test_suggest_finds_fewer_windows_when_the_target_allows() -> None:
    p = profile(2.0, (1, 2, 3))
    loose = whatif.suggest(CFG, p, whatif.Plan(), 60 * 60.0, replications=1)
    assert all(n == 1 for n in loose["suggested"]["general_windows"].values())
    tight = whatif.suggest(CFG, p, whatif.Plan(), 1.0, replications=1)
    assert tight["suggested"]["general_windows"]["09"] > 1


def test_people_left_waiting_by_a_plan_are_counted_not_hidden() -> None:
    """Window 1 only from 9 to 10: who comes at 10 is never called, and says so."""
    p = profile(2.0, (1,))
    figures = whatif.play(CFG, whatif.Plan(windows={9: (1,)}), p, whatif.draw(p, CFG, 5))
    ten = next(r for r in figures["hours"] if r["hour"] == "10")
    assert ten["issued"] > 0 and ten["not_called"] == ten["issued"]
    assert ten["mean_wait"] is None
    assert figures["totals"]["not_called"] >= ten["issued"]
