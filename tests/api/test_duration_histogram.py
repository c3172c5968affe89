"""The duration histogram's nearest-rank percentiles, without a database."""

from __future__ import annotations

import math

from db.duration_histogram import BUCKETS, RELATIVE_RESOLUTION, Histogram, merged


def _bucket(seconds: float) -> int:
    """Python twin of `bucket_sql`, for building histograms in tests."""
    if seconds < 0.1:
        return 0
    if seconds >= 100_000:
        return BUCKETS - 1
    return 1 + math.floor(20 * math.log10(seconds / 0.1))


def _hist(values: list[float]) -> Histogram:
    out = Histogram()
    for value in values:
        out.put(_bucket(value), 1, value)
    return out


def _nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(round(p * len(ordered), 9))) - 1]


class TestHistogramPercentiles:
    def test_an_empty_histogram_has_no_percentile(self) -> None:
        assert Histogram().percentile(0.5) is None

    def test_values_in_buckets_of_their_own_come_back_exactly(self) -> None:
        values = [1.5, 10, 20, 30, 40, 50, 100]
        h = _hist(values)
        assert (h.percentile(0.5), h.percentile(0.95)) == (30, 100)
        assert h.percentile(1.0) == 100 and h.percentile(0.01) == 1.5

    def test_merging_days_equals_one_histogram_of_all_values(self) -> None:
        days = [[3.2, 7.7, 120.0], [0.05, 9.0], [86400.0, 200000.0, 44.4]]
        whole = _hist([v for day in days for v in day])
        assert merged(_hist(day) for day in days) == whole

    def test_any_percentile_is_within_one_bucket_of_the_exact_one(self) -> None:
        values = [0.2 * 1.07**i for i in range(180)]  # up to 50,000 s, below the overflow
        h = _hist(values)
        for p in (0.01, 0.25, 0.5, 0.9, 0.95, 0.99):
            exact = _nearest_rank(values, p)
            got = h.percentile(p)
            assert got is not None
            assert abs(got - exact) <= exact * RELATIVE_RESOLUTION, p
