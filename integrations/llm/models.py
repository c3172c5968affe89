"""Which sampling and reasoning parameters a model takes, decided by its name in this one place.

Reasoning models (the o1, o3, o4 and gpt-5 families, their dated snapshots and their -mini,
-nano and -pro variants) answer 400 to `temperature` other than 1 and to `max_tokens`
(openai-python `types/chat/completion_create_params.py`: `max_tokens` "is not compatible with
o-series models"; the 400 texts are quoted in DESIGN.md). They get no sampling parameter at
all, only `reasoning_effort` when one is configured: omitting `temperature` is accepted by
every model, sending it is not. `max_tokens` is never sent; `max_completion_tokens` (which
every chat model takes, and which bounds reasoning tokens too) is sent only when a budget is
kept, so that no answer costs more than its reservation. Any other model gets
`temperature=0`.
"""

from __future__ import annotations

import re
from typing import Any

# o1, o3, o4 (o1-mini, o3-pro, o4-mini-2025-04-16, ...) and gpt-5, gpt-5.1, ... (gpt-5-mini,
# gpt-5-nano-2025-08-07, gpt-5.1-codex, ...); not gpt-4o nor a name that only begins alike
_REASONING_FAMILY = re.compile(r"(o[134]|gpt-5(\.\d+)?)(-|$)")
# gpt-5-chat-latest and its successors: chat models of the family that refuse
# reasoning_effort ("Unsupported parameter", github.com/Laisky/one-api/issues/120) or take a
# single value (github.com/egoist/chatwise-releases/issues/1257)
_CHAT_VARIANT = re.compile(r"-chat(-|$)")


def base_name(model: str) -> str:
    """The model's own name: a LiteLLM-style provider prefix (`openai/gpt-5-mini`) goes."""
    return model.rsplit("/", 1)[-1].strip().lower()


def is_reasoning_model(model: str) -> bool:
    """True for the o1, o3, o4 and gpt-5 families, snapshots and variants included."""
    return _REASONING_FAMILY.match(base_name(model)) is not None


def request_params(model: str, *, reasoning_effort: str | None,
                   max_completion_tokens: int | None = None) -> dict[str, Any]:
    """The parameters beside model, messages and response_format for a call to `model`."""
    cap = {} if max_completion_tokens is None else {"max_completion_tokens": max_completion_tokens}
    if not is_reasoning_model(model):
        return {"temperature": 0.0, **cap}
    if reasoning_effort is None or _CHAT_VARIANT.search(base_name(model)):
        return cap  # the provider's default effort
    return {"reasoning_effort": reasoning_effort, **cap}
