"""Random spread for retry waits, drawn from a generator of its own: a retry never moves the
process's global `random` state, which a seeded caller or a property-based test relies on."""

from __future__ import annotations

import random

_generator = random.Random()


def jitter(low: float, high: float) -> float:
    """A number between `low` and `high`."""
    return _generator.uniform(low, high)
