"""Day and hour aggregates of the history: the grouped queries that both the rollup
(`db/stats_refresh.py`) and the live path (`db/stats_rollup.py`) run, so every path counts
alike, what they produce, and how far the rollup goes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Connection, Row, TextClause, text

from db.duration_histogram import Histogram, bucket_sql

HOUR = timedelta(hours=1)
_DAY = "(created_at AT TIME ZONE 'UTC')::date"
_HOUR = "date_trunc('hour', created_at, 'UTC')"
_RANGE = "created_at >= :since AND created_at < :until"


def route_match(alias: str = "") -> str:
    """The route filter (/stats?project=&repository=, the cost report) on a run's columns
    (those of `alias` when the query names the run's table so); a NULL parameter matches
    every run."""
    column = f"{alias}." if alias else ""
    return (f"(CAST(:project_key AS text) IS NULL OR {column}project_key = :project_key) AND "
            f"(CAST(:repository AS text) IS NULL OR {column}repository = :repository)")


# a run's own columns, or its run's for a child row
ROUTE_MATCH = route_match()
_CHILD_ROUTE = f"history_id IN (SELECT id FROM issue_processing_history WHERE {ROUTE_MATCH})"


@dataclass(frozen=True)
class RouteFilter:
    """Figures of one project's or one repository's runs only (None: any)."""

    project_key: str | None = None
    repository: str | None = None

    @property
    def params(self) -> dict[str, str | None]:
        return {"project_key": self.project_key, "repository": self.repository}


ANY_ROUTE = RouteFilter()


def _runs_by(key: str, where: str = "true") -> TextClause:
    return text(f"""
SELECT {key} AS day,
       count(*) FILTER (WHERE status = 'queued') AS queued,
       count(*) FILTER (WHERE status = 'processing') AS processing,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       coalesce(sum(modified_files_count) FILTER (WHERE status = 'completed'), 0)
           AS files_modified,
       coalesce(sum(processing_duration_seconds) FILTER (WHERE status = 'completed'), 0)
           AS duration_sum
FROM issue_processing_history WHERE {_RANGE} AND {where} GROUP BY 1""")


def _durations_by(key: str, where: str = "true") -> TextClause:
    return text(f"""
SELECT {key} AS day, {bucket_sql("processing_duration_seconds")} AS bucket,
       count(*) AS n, sum(processing_duration_seconds)::float8 AS total
FROM issue_processing_history
WHERE {_RANGE} AND status = 'completed' AND processing_duration_seconds IS NOT NULL
      AND {where}
GROUP BY 1, 2""")


def _bitbucket_by(key: str, where: str = "true") -> TextClause:
    return text(f"""
SELECT {key} AS day, count(*) AS calls,
       count(*) FILTER (WHERE status_code >= 400 OR error_message IS NOT NULL) AS errors
FROM bitbucket_api_history WHERE {_RANGE} AND {where} GROUP BY 1""")


def _llm_by(key: str, where: str = "true") -> TextClause:
    return text(f"""
SELECT {key} AS day, model, call_type, count(*) AS calls,
       count(*) FILTER (WHERE cache_hit) AS cache_hits,
       count(estimated_cost) AS priced_calls,
       count(*) FILTER (WHERE estimated_cost IS NULL AND NOT cache_hit) AS unpriced_calls,
       coalesce(sum(estimated_cost), 0) AS cost,
       coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
       coalesce(sum(completion_tokens), 0) AS completion_tokens,
       coalesce(sum(cached_tokens), 0) AS cached_tokens,
       coalesce(sum(total_tokens), 0) AS total_tokens
FROM llm_call_history WHERE {_RANGE} AND {where} GROUP BY 1, 2, 3""")


BY_DAY = (_runs_by(_DAY), _durations_by(_DAY), _bitbucket_by(_DAY), _llm_by(_DAY))
BY_HOUR = (_runs_by(_HOUR), _durations_by(_HOUR), _bitbucket_by(_HOUR), _llm_by(_HOUR))
BY_DAY_ROUTED = (_runs_by(_DAY, ROUTE_MATCH), _durations_by(_DAY, ROUTE_MATCH),
                 _bitbucket_by(_DAY, _CHILD_ROUTE), _llm_by(_DAY, _CHILD_ROUTE))
RUNS_BY_DAY, LLM_BY_DAY = BY_DAY[0], BY_DAY[3]  # the analytics queries build on these


@dataclass(frozen=True)
class LlmSums:
    """LLM calls summed over any set of days, models and call types."""

    calls: int = 0
    cache_hits: int = 0
    priced_calls: int = 0
    unpriced_calls: int = 0
    cost: Decimal = Decimal(0)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def of(cls, groups: Iterable[LlmSums | LlmGroup]) -> LlmSums:
        g = list(groups)
        return cls(*(sum((getattr(x, name) for x in g), start=getattr(cls(), name))
                     for name in LLM_FIELDS))


LLM_FIELDS = tuple(LlmSums.__dataclass_fields__)


@dataclass
class DayRuns:
    """Runs created on one UTC day (or hour: `day` is then its start), and its git-host calls."""

    day: date
    queued: int = 0
    processing: int = 0
    completed: int = 0
    failed: int = 0
    files_modified: int = 0
    durations: Histogram = field(default_factory=Histogram)
    duration_sum: Decimal = Decimal(0)
    bitbucket_calls: int = 0
    bitbucket_errors: int = 0

    @property
    def runs(self) -> int:
        return self.queued + self.processing + self.completed + self.failed

    def add(self, other: DayRuns) -> None:
        self.queued += other.queued
        self.processing += other.processing
        self.completed += other.completed
        self.failed += other.failed
        self.files_modified += other.files_modified
        self.durations.add(other.durations)
        self.duration_sum += other.duration_sum
        self.bitbucket_calls += other.bitbucket_calls
        self.bitbucket_errors += other.bitbucket_errors


@dataclass(frozen=True)
class LlmGroup:
    """LLM calls of one UTC day (or hour), model and call type."""

    day: date
    model: str
    call_type: str
    calls: int
    cache_hits: int
    priced_calls: int
    unpriced_calls: int
    cost: Decimal
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class DayFigures:
    """One day as /stats/daily shows it: `stats_daily` keeps these for every closed day."""

    day: date
    queued: int = 0
    processing: int = 0
    completed: int = 0
    failed: int = 0
    files_modified: int = 0
    duration_count: int = 0
    duration_sum: Decimal = Decimal(0)
    p50_seconds: float | None = None
    p95_seconds: float | None = None
    llm: LlmSums = LlmSums()

    @classmethod
    def of(cls, runs: DayRuns, llm: LlmSums) -> DayFigures:
        h = runs.durations
        return cls(runs.day, runs.queued, runs.processing, runs.completed, runs.failed,
                   runs.files_modified, h.n, runs.duration_sum, h.percentile(0.5),
                   h.percentile(0.95), llm)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def aggregate(conn: Connection, *, lo: datetime, hi: datetime, per: Literal["day", "hour"],
              git_host: bool = True, route: RouteFilter | None = None
              ) -> tuple[dict[date, DayRuns], list[LlmGroup]]:
    """Figures of the rows in [lo, hi) per UTC day, or per UTC hour (`per="hour"`: the keys
    are the hours' starts), as the rollup writes them; git-host calls unless not `git_host`;
    with `route`, per day, of that route's runs only."""
    runs_q, durations_q, bitbucket_q, llm_q = (
        BY_DAY_ROUTED if route else BY_HOUR if per == "hour" else BY_DAY)
    params: dict[str, Any] = {"since": lo, "until": hi, **(route.params if route else {})}
    out: dict[date, DayRuns] = {}
    for row in conn.execute(runs_q, params):
        out[row.day] = DayRuns(row.day, row.queued, row.processing, row.completed, row.failed,
                               int(row.files_modified), Histogram(), row.duration_sum)
    for row in conn.execute(durations_q, params):
        out.setdefault(row.day, DayRuns(row.day)).durations.put(row.bucket, row.n, row.total)
    for row in conn.execute(bitbucket_q, params) if git_host else ():
        agg = out.setdefault(row.day, DayRuns(row.day))
        agg.bitbucket_calls, agg.bitbucket_errors = row.calls, row.errors
    return out, [LlmGroup(*row) for row in conn.execute(llm_q, params)]


def hour_figures(row: Row[Any]) -> tuple[DayRuns, LlmSums]:
    """A `stats_hourly` row: its day's figures from midnight through the end of its hour."""
    return (DayRuns(row.hour.astimezone(UTC).date(), row.queued, row.processing, row.completed,
                    row.failed, row.files_modified,
                    Histogram.from_arrays(row.duration_hist, row.duration_hist_sum),
                    row.duration_sum, row.bitbucket_calls, row.bitbucket_errors),
            LlmSums(*(getattr(row, f"llm_{name}") for name in LLM_FIELDS)))


_CUMULATIVE = text("SELECT day, duration_cum, duration_cum_sum FROM stats_daily "
                   "WHERE day = ANY(:days)")


def histograms_through(conn: Connection, *days: date) -> list[Histogram]:
    """For each of `days`, the durations of every rolled-up day through it, summed (empty
    before the first), in one query."""
    found = {day: Histogram.from_arrays(counts, sums)
             for day, counts, sums in conn.execute(_CUMULATIVE, {"days": list(days)})}
    return [found.get(day) or Histogram() for day in days]


_ROLLUP_STATE = text("""
SELECT (SELECT max(day) FROM stats_daily) AS done,
       (SELECT min(hour) FROM stats_hourly) AS first_hour,
       (SELECT max(hour) FROM stats_hourly) AS last_hour,
       (SELECT min(created_at) FROM issue_processing_history
        WHERE status IN ('queued', 'processing')) AS first_active""")


@dataclass(frozen=True)
class RollupState:
    """How far the rollup goes (days through `done`, then hours up to `hours_until`), and
    when the oldest run still active was created (nothing from then on is closed)."""

    done: date | None
    hours_until: datetime | None = None  # None: no hourly rows continue the days
    first_active: datetime | None = None

    @classmethod
    def read(cls, conn: Connection) -> RollupState:
        done, first, last, first_active = conn.execute(_ROLLUP_STATE).one()
        # hourly rows count only where they continue the days (after a rebuild they may not)
        joined = done is not None and first == midnight(done + timedelta(days=1))
        # in UTC whatever the session's time zone: hours are cut and dated by UTC midnights
        return cls(done, (last + HOUR).astimezone(UTC) if joined else None, first_active)
