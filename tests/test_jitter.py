"""Retry waits are spread at random without touching the process's global `random` state, which
a seeded caller or a property-based test (Hypothesis warns when it moves) relies on."""

from __future__ import annotations

import random

from deployments.http.handoff_loop import retry_delay
from integrations.http_retry import RetryPolicy


def test_retry_waits_leave_the_global_random_state_alone() -> None:
    saved = random.getstate()  # the other tests of this process keep their randomness
    try:
        random.seed(7)
        expected = random.random()
        random.seed(7)
        waits = [RetryPolicy().delay(3) for _ in range(20)]
        loop_waits = [retry_delay(3).total_seconds() for _ in range(20)]
        assert random.random() == expected
    finally:
        random.setstate(saved)
    assert len(set(waits)) > 1 and len(set(loop_waits)) > 1  # still spread, attempt by attempt


def test_a_wait_stays_within_its_band() -> None:
    policy = RetryPolicy()
    for attempt in range(1, 6):
        ceiling = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
        assert all(ceiling / 2 <= policy.delay(attempt) <= ceiling for _ in range(50))
