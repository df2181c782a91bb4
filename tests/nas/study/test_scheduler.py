"""The multi-fidelity scheduler on hand-worked examples: promotion order (front, then crowding, then number),
the top floor(n / eta) of a rung, promotions of paused trials only, highest rung first, and a resumed study's
rung records."""

from __future__ import annotations

import math

from nas.study.scheduler import RungScheduler, promotable, promotion_order

DIRECTIONS = ["maximize", "minimize"]  # accuracy up, FLOPs down


def test_promotion_order_is_front_then_crowding_then_number() -> None:
    # trial: (accuracy, flops). Front 1: trials 3 (0.9, 10), 1 (0.5, 5) and 0 (0.7, 7), the last between the
    # two extremes (finite crowding, after the infinite ones); trial 2 (0.4, 20) is dominated by 1 and 3;
    # trial 4 has no accuracy at all and sorts last.
    results = {0: [0.7, 7.0], 1: [0.5, 5.0], 2: [0.4, 20.0], 3: [0.9, 10.0], 4: [math.nan, 1.0]}
    assert promotion_order(results, DIRECTIONS) == [1, 3, 0, 2, 4]


def test_only_the_top_third_of_a_rung_is_promotable_and_only_once() -> None:
    results = {0: [0.7, 7.0], 1: [0.5, 5.0], 2: [0.4, 20.0], 3: [0.9, 10.0], 4: [0.1, 50.0], 5: [0.2, 40.0]}
    assert promotable(results, set(), DIRECTIONS, eta=3) == [1, 3]  # floor(6 / 3) = 2
    assert promotable(results, {1}, DIRECTIONS, eta=3) == [3]
    assert promotable({0: [0.7, 7.0], 1: [0.5, 5.0]}, set(), DIRECTIONS, eta=3) == []  # floor(2 / 3) = 0


def test_the_scheduler_promotes_paused_trials_highest_rung_first() -> None:
    scheduler: RungScheduler[str] = RungScheduler((1 / 9, 1 / 3, 1.0), DIRECTIONS, eta=3)
    for number, accuracy in enumerate([0.1, 0.2, 0.3]):
        scheduler.pause(number, 0, [accuracy, 10.0], f"job {number}")
    assert scheduler.candidate() == (0, 2)  # the most accurate at equal cost
    assert scheduler.promote() == (1, "job 2")
    assert scheduler.promote() is None and not scheduler.is_paused(2)
    # rung 1 has one result: floor(1 / 3) = 0 promotable; three more rung-0 results make the next promotion
    scheduler.pause(2, 1, [0.3, 10.0], "job 2 at rung 1")
    for number in (3, 4, 5):
        scheduler.pause(number, 0, [0.05, 10.0], f"job {number}")
    assert scheduler.promote() == (1, "job 1")  # rung 0 now has 6 results: its top 2 are trials 2 and 1
    for number in (6, 7):
        scheduler.pause(number, 1, [0.01, 10.0], f"job {number} at rung 1")
    assert scheduler.candidate() == (1, 2)  # rung 1 (three results) goes first
    assert scheduler.drain() == [
        "job 0",
        "job 2 at rung 1",
        "job 3",
        "job 4",
        "job 5",
        "job 6 at rung 1",
        "job 7 at rung 1",
    ]
    assert scheduler.paused() == [] and scheduler.candidate() is None


def test_stored_rung_records_rank_and_count_as_promoted() -> None:
    """A resumed study: rung records of earlier runs count in the ranking, and a trial that went beyond a
    rung is not promoted from it again."""
    scheduler: RungScheduler[str] = RungScheduler((1 / 3, 1.0), DIRECTIONS, eta=3)
    records = {
        0: [{"rung": 0, "objectives": [0.9, 1.0]}, {"rung": 1, "objectives": [0.95, 1.0]}],
        1: [{"rung": 0, "objectives": [0.5, 1.0]}],
        2: [{"rung": 0, "objectives": [0.4, 1.0]}],
    }
    assert [scheduler.load(number, rungs) for number, rungs in records.items()] == [1, 0, 0]
    scheduler.pause(1, 0, None, "job 1")
    assert scheduler.candidate() is None  # the top third of rung 0 is trial 0, which was promoted already
    scheduler.pause(3, 0, [0.6, 1.0], "job 3")
    scheduler.pause(4, 0, [0.7, 1.0], "job 4")
    scheduler.pause(5, 0, [0.1, 1.0], "job 5")
    assert scheduler.promote() == (1, "job 4")  # 6 results, top 2: trials 0 (promoted before) and 4
