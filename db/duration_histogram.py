"""Fixed log-spaced duration buckets, so percentiles over any span of days add up exactly.

Bucket 0 holds durations below 0.1 s; buckets 1..120 split [0.1 s, 100,000 s) into 20 buckets
per decade (each 10^(1/20) ≈ 1.122 times wider than the one before); bucket 121 holds the
rest. Each day keeps, per bucket, the number of durations and their sum. A percentile is the
nearest-rank one (PostgreSQL's `percentile_disc`: the first value whose rank is at least
p × n), reported as the mean of the durations in the bucket that holds that rank. So it is
exact when that bucket holds one distinct value, and never off by more than the bucket's
width: under 12.2 % of the true value (under 0.1 s in bucket 0; above 100,000 s, i.e.
27.8 h, it is only the mean of those durations).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

BASE_SECONDS = 0.1
PER_DECADE = 20
DECADES = 6
BUCKETS = PER_DECADE * DECADES + 2
RELATIVE_RESOLUTION = 10 ** (1 / PER_DECADE) - 1


def bucket_sql(seconds: str) -> str:
    """SQL for the bucket index of the duration expression `seconds` (same in rollup and live)."""
    top = BASE_SECONDS * 10**DECADES
    return (
        f"CASE WHEN {seconds} < {BASE_SECONDS} THEN 0 "
        f"WHEN {seconds} >= {top:.0f} THEN {BUCKETS - 1} "
        f"ELSE 1 + floor({PER_DECADE} * log(({seconds})::float8 / {BASE_SECONDS}))::int END"
    )


@dataclass
class Histogram:
    """Counts and sums of durations per bucket; add days together with `add`."""

    counts: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    sums: list[float] = field(default_factory=lambda: [0.0] * BUCKETS)

    @classmethod
    def from_arrays(cls, counts: Sequence[int], sums: Sequence[float]) -> Histogram:
        return cls(list(counts), [float(s) for s in sums])

    def put(self, bucket: int, count: int, total: float) -> None:
        self.counts[bucket] += count
        self.sums[bucket] += total

    def add(self, other: Histogram) -> None:
        for i in range(BUCKETS):
            self.counts[i] += other.counts[i]
            self.sums[i] += other.sums[i]

    @property
    def n(self) -> int:
        return sum(self.counts)

    def percentile(self, p: float) -> float | None:
        """Nearest-rank percentile (0 < p <= 1), or None when there is no duration."""
        n = self.n
        if n == 0:
            return None
        rank = max(1, math.ceil(round(p * n, 9)))
        seen = 0
        for count, total in zip(self.counts, self.sums, strict=True):
            seen += count
            if count and seen >= rank:
                return round(total / count, 3)
        raise AssertionError("unreachable: rank <= n")


def merged(histograms: Iterable[Histogram]) -> Histogram:
    out = Histogram()
    for histogram in histograms:
        out.add(histogram)
    return out
