"""The shadow diff's CPU budget, in process: pairs the budget cannot pay for are not
opened (counted as skipped), comparing spends the budget, and it refills with time."""

from __future__ import annotations

import asyncio
import json

from devkit_runtime.router import shadow
from devkit_runtime.router.diff import Answer


def _answer(value: float) -> Answer:
    return Answer(200, json.dumps({"y": value}).encode(), "application/json")


def test_an_overspent_budget_skips_new_pairs_and_counts_them() -> None:
    book = shadow.ShadowBook()
    book._credit = -1.0  # as after comparing far more than the budget paid for
    assert book.begin("blue", "green", b"r-1") is None
    assert book.stats("blue", "green").skipped == 1
    assert book.as_json("ep")["pairs"][0]["skipped"] == 1


def test_within_budget_pairs_are_compared_and_the_comparing_is_paid_for() -> None:
    async def scenario() -> shadow.ShadowBook:
        book = shadow.ShadowBook()
        for index in range(200):
            pending = book.begin("blue", "green", f"r-{index}".encode())
            assert pending is not None
            pending.live_done(_answer(index))
            pending.shadow_done(_answer(index + 1))  # every pair differs: full compare
        await asyncio.sleep(shadow.DRAIN_DELAY_S * 10)
        return book

    book = asyncio.run(scenario())
    pair = book.stats("blue", "green")
    assert pair.compared == 200 and pair.skipped == 0 and pair.agreed == 0
    assert book.compare_seconds > 0
    # what comparing took was taken from the credit (it refills at COMPARE_BUDGET only)
    assert book._credit < shadow.BUDGET_BURST_S


def test_the_budget_refills_with_time() -> None:
    book = shadow.ShadowBook()
    book._credit, book._credit_at = -0.001, 0.0
    book._refill(0.001 / shadow.COMPARE_BUDGET + 1.0)  # one second past paying it back
    assert 0 < book._credit <= shadow.BUDGET_BURST_S
    assert book.begin("blue", "green", b"r") is not None
