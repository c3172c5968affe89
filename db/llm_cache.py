"""The LLM response cache in PostgreSQL (`llm_response_cache`), keyed by a request hash.

A cache that cannot be read or written degrades to "miss" with a log line: the LLM call
still happens and its result is not lost.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError

from db.models import LlmResponseCache
from sdb_agent import clock

logger = logging.getLogger(__name__)


class PostgresResponseCache:
    def __init__(self, engine: Engine, *, ttl: timedelta) -> None:
        self.engine = engine
        self.ttl = ttl

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored response if present and unexpired; counts the hit."""
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
            logger.warning("LLM cache read failed (%s); calling the model", type(exc).__name__)
            return None
        return response

    def put(self, key: str, *, model: str, call_type: str, response: dict[str, Any],
            prompt_tokens: int | None, completion_tokens: int | None) -> None:
        now = clock.now()
        values = {"model": model, "call_type": call_type, "response": response,
                  "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "created_at": now, "expires_at": now + self.ttl}
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(LlmResponseCache).values(cache_key=key, **values)
                             .on_conflict_do_update(index_elements=["cache_key"], set_=values))
        except SQLAlchemyError as exc:
            logger.warning("LLM cache write failed (%s); result kept", type(exc).__name__)
