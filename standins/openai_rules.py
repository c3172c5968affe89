"""What the real servers refuse in a chat completion request, each rule beside its source.

The stand-in's strict mode applies the OpenAI rules; `alternating_roles` adds vLLM's answer
when a Mistral or Gemma chat template is served. The reasoning-model rule is written here
from the documents, apart from the client's own (`integrations/llm/models.py`), so a test
of one against the other means something. Where the documents are silent the request is
accepted.
"""

from __future__ import annotations

import re
from typing import Any, get_args

from openai.types.shared.reasoning_effort import ReasoningEffort

Error = dict[str, object]

# openai-python `types/shared/reasoning_effort.py`: every value the API knows
EFFORTS: tuple[str, ...] = get_args(get_args(ReasoningEffort)[0])
# OpenAI's reasoning guide (platform.openai.com/docs/guides/reasoning): o1, o3, o4-mini and
# the gpt-5 family, with their dated snapshots and variants
_REASONING = re.compile(r"(o[134]|gpt-5(\.\d+)?)(-|$)")
_LATER_THAN_GPT_5 = re.compile(r"gpt-5\.\d+")
# which efforts a family takes, from openai-python's `reasoning_effort` docstrings
# (completion_create_params.py): low/medium/high before gpt-5 (commit 2954945e), minimal
# added with gpt-5 (caf837bb), "gpt-5.1 ... none, low, medium, and high", "all models before
# gpt-5.1 ... do not support none", "gpt-5-pro ... only supports high" (ac534dcd); later
# models: not documented per model, so any value the SDK knows
_EFFORTS_BY_FAMILY = (
    (re.compile(r"o[134](-|$)"), ("low", "medium", "high")),
    (re.compile(r"gpt-5-pro(-|$)"), ("high",)),
    (re.compile(r"gpt-5(-|$)"), ("minimal", "low", "medium", "high")),
    (re.compile(r"gpt-5\.1(-\d{4}-\d{2}-\d{2})?$"), ("none", "low", "medium", "high")),
)
# community.openai.com/t/developer-role-not-accepted-for-o1-o1-mini-o3-mini/1110750/7 (what
# the API rejects for o1/o3-mini) and github.com/brainlid/langchain/pull/419 ("Unsupported
# parameter: 'top_p' is not supported with this model." from gpt-5.2)
_SAMPLING = ("top_p", "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs")


def is_reasoning_model(model: str) -> bool:
    return _REASONING.match(model) is not None


def openai_refusal(body: dict[str, Any]) -> Error | None:
    """OpenAI's 400 for this request, or None if OpenAI would take it."""
    model = str(body["model"])
    if not is_reasoning_model(model):
        if body.get("reasoning_effort") is not None:
            # the community table above: reasoning_effort is rejected by gpt-4o and older
            return unsupported_parameter("reasoning_effort")
        return None
    return _effort_refusal(model, body) or _sampling_refusal(model, body)


def alternation_refusal(messages: list[Any]) -> Error | None:
    """vLLM's 400 under a Mistral chat template: after an optional first system message, roles
    must go user, assistant, user, ... (the template's `raise_exception`, quoted in
    github.com/vllm-project/vllm/issues/6862; Gemma's says the same without the first words,
    github.com/suitenumerique/conversations/issues/197)."""
    roles = [m.get("role") if isinstance(m, dict) else None for m in messages]
    turns = roles[1:] if roles[:1] == ["system"] else roles
    if all((role == "user") == (index % 2 == 0) for index, role in enumerate(turns)):
        return None
    message = ("After the optional system message, conversation roles must alternate "
               "user/assistant/user/assistant/...")
    # the body vLLM answers with (vllm#6862 and conversations#197)
    return {"error": {"message": message, "type": "BadRequestError", "param": None, "code": 400}}


def unsupported_parameter(name: str, hint: str = "") -> Error:
    # the body quoted in github.com/griptape-ai/ComfyUI-Griptape/issues/312
    return _error(f"Unsupported parameter: '{name}' is not supported with this model.{hint}",
                  name, "unsupported_parameter")


def _effort_refusal(model: str, body: dict[str, Any]) -> Error | None:
    effort = body.get("reasoning_effort")
    if effort is None:
        return None
    if effort not in EFFORTS:
        return _error(f"Invalid value: {effort!r}. Supported values are: {_listed(EFFORTS)}.",
                      "reasoning_effort", "invalid_value")
    supported = next((values for family, values in _EFFORTS_BY_FAMILY if family.match(model)),
                     EFFORTS)
    if effort in supported:
        return None
    # the wording of github.com/egoist/chatwise-releases/issues/1257 and
    # github.com/livekit/agents/pull/3966
    return _error(f"Unsupported value: 'reasoning_effort' does not support {effort!r} with "
                  f"this model. Supported values are: {_listed(supported)}.",
                  "reasoning_effort", "unsupported_value")


def _sampling_refusal(model: str, body: dict[str, Any]) -> Error | None:
    if body.get("max_tokens") is not None:
        # openai-python: max_tokens "is not compatible with o-series models"; the text is
        # the one quoted in ComfyUI-Griptape#312 for gpt-5
        return unsupported_parameter("max_tokens", " Use 'max_completion_tokens' instead.")
    if _takes_sampling(model, body):
        return None
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1:
        # github.com/gabrii/Cursor-Azure-GPT-5/issues/33 (the whole body, for gpt-5)
        return _error(f"Unsupported value: 'temperature' does not support {temperature} with "
                      "this model. Only the default (1) value is supported.",
                      "temperature", "unsupported_value")
    sent = next((name for name in _SAMPLING if body.get(name) is not None), None)
    return None if sent is None else unsupported_parameter(sent)


def _takes_sampling(model: str, body: dict[str, Any]) -> bool:
    """gpt-5.1 and later take sampling parameters when they do not reason: their effort is
    `none`, the default from gpt-5.1 on (openai-python's docstring; langchain#419 points to
    the "GPT-5.2 parameter compatibility" guide)."""
    if not _LATER_THAN_GPT_5.match(model):
        return False
    return body.get("reasoning_effort") in (None, "none")


def _error(message: str, param: str, code: str) -> Error:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param,
                      "code": code}}


def _listed(values: tuple[str, ...]) -> str:
    quoted = [repr(v) for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f", and {quoted[-1]}"
