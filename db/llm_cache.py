"""The LLM response cache in PostgreSQL (`llm_response_cache`), keyed by a request hash.

A cache that cannot be read or written degrades to "miss" with a log line: the LLM call
still happens and its result is not lost. The answers this process validated are also kept
in memory (a few hundred, same expiry), so a task retried while the database is away, or
after it dropped the write, does not pay the model a second time for the same request.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError

from base import clock
from db.models import LlmResponseCache

logger = logging.getLogger(__name__)


class PostgresResponseCache:
    def __init__(self, engine: Engine, *, ttl: timedelta) -> None:
        self.engine = engine
        self.ttl = ttl
        self.database = str(engine.url)  # the memory copy belongs to one database's cache

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored response if present and unexpired; counts the hit."""
        recent = _recent.get((self.database, key))
        try:
            with self.engine.begin() as conn:
                response = conn.execute(
                    update(LlmResponseCache)
                    .where(LlmResponseCache.cache_key == key,
                           LlmResponseCache.expires_at > clock.now())
                    .values(hit_count=LlmResponseCache.hit_count + 1)
                    .returning(LlmResponseCache.response)
                ).scalar_one_or_none()
        except SQLAlchemyError as exc:
            logger.warning("LLM cache read failed (%s); %s", type(exc).__name__,
                           "using this process's copy" if recent else "calling the model")
            return recent
        return response if response is not None else recent

    def put(self, key: str, *, model: str, call_type: str, response: dict[str, Any],
            prompt_tokens: int | None, completion_tokens: int | None) -> None:
        now = clock.now()
        _recent.put((self.database, key), response, expires_at=now + self.ttl)
        values = {"model": model, "call_type": call_type, "response": response,
                  "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "created_at": now, "expires_at": now + self.ttl}
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(LlmResponseCache).values(cache_key=key, **values)
                             .on_conflict_do_update(index_elements=["cache_key"], set_=values))
        except SQLAlchemyError as exc:
            logger.warning("LLM cache write failed (%s); result kept", type(exc).__name__)


class _RecentAnswers:
    """A bounded, thread-safe map of this process's validated answers, oldest dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], tuple[datetime, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: tuple[str, str], response: dict[str, Any], *,
            expires_at: datetime) -> None:
        with self._lock:
            self._items[key] = (expires_at, response)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, key: tuple[str, str]) -> dict[str, Any] | None:
        with self._lock:
            item = self._items.get(key)
        if item is None or item[0] <= clock.now():
            return None
        return item[1]


_recent = _RecentAnswers(size=512)
