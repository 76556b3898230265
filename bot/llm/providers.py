"""The two ways to ask a model for a plan: OpenAI Chat Completions and Anthropic Messages.

Both return a `Completion` (the raw reply, its JSON, token counts) or raise `ProviderError`
with a reason that is safe to log: a status and a hint, never the key. The SDKs retry
nothing (`max_retries=0`): the planner owns the time budget and the rule planner is the
retry.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from bot.llm.config import LLMConfig
from bot.llm.prompt import repair_prompt, schema_instructions
from bot.llm.schema import SCHEMA_NAME

if TYPE_CHECKING:  # the SDKs load only when a model is configured: `dispatch` starts fast
    from anthropic.types import MessageParam, ToolParam
    from anthropic.types.tool_param import InputSchema

log = logging.getLogger(__name__)

NO_KEY = "no-key"
"""Sent when no key is configured: local endpoints ignore it, and it stops the SDKs from
reading OPENAI_API_KEY / ANTHROPIC_API_KEY or credential files on their own."""
TOOL_NAME = "route"

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
_STATUS_HINTS = {
    400: "bad request",
    401: "authentication failed: check the API key",
    403: "permission denied",
    404: "model or endpoint not found",
    413: "request too large",
    422: "request rejected",
    429: "rate limited or out of quota",
    529: "overloaded",
}


class ProviderError(Exception):
    """A failed call; the message is safe to log and to show in `fallback_reason`."""


@dataclass
class Completion:
    """One reply: its text, the JSON in it (or why there is none), and what it cost."""

    raw: str
    data: Any = None
    error: str | None = None
    """Why the reply holds no usable JSON object (cut off, refused, not JSON…)."""
    input_tokens: int = 0
    output_tokens: int = 0
    tool_use_id: str | None = None


class LLMClient(Protocol):
    async def complete(
        self,
        system: str,
        user: str,
        schema: dict[str, Any],
        previous: Completion | None = None,
        problems: Sequence[str] = (),
    ) -> Completion:
        """Ask once; with `previous` and `problems`, ask for a corrected plan."""
        ...

    async def aclose(self) -> None: ...


def make_client(config: LLMConfig) -> LLMClient:
    if config.provider == "anthropic":
        return AnthropicClient(config)
    return OpenAIClient(config)


def parse_json(raw: str) -> tuple[Any, str | None]:
    """The JSON object in a reply, tolerating what local models wrap around it
    (<think> blocks, code fences, a sentence before the object)."""
    text = _THINK.sub("", raw).strip()
    if fence := _FENCE.match(text):
        text = fence.group(1)
    if not text:
        return None, "the reply was empty"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        start, end = text.find("{"), text.rfind("}")
        if 0 <= start < end and (start, end) != (0, len(text) - 1):
            try:
                return json.loads(text[start : end + 1]), None
            except json.JSONDecodeError:
                pass
        return (
            None,
            f"the reply is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
        )


def http_reason(status: int, detail: str = "") -> str:
    hint = _STATUS_HINTS.get(status) or ("server error" if status >= 500 else "")
    reason = f"HTTP {status} from the model"
    if hint:
        reason += f" ({hint})"
    if detail and status in (400, 404, 422):
        reason += ": " + _clip(detail, 160)
    return reason


class OpenAIClient:
    """Chat Completions with strict json_schema, stepping down to JSON mode when the endpoint
    refuses it (many OpenAI-compatible servers do), then to no response_format at all, and
    remembering the step; likewise for max_tokens and temperature, which OpenAI's reasoning
    models refuse."""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        import openai

        self._key = config.api_key.get_secret_value() if config.api_key else ""
        self._client = openai.AsyncOpenAI(
            api_key=self._key or NO_KEY,
            base_url=config.base_url,
            timeout=config.timeout + 5,  # the planner's asyncio.timeout fires first
            max_retries=0,
        )
        self.mode: Literal["json_schema", "json_object", "text"] = "json_schema"
        self.tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
        self.send_temperature = True

    async def complete(
        self,
        system: str,
        user: str,
        schema: dict[str, Any],
        previous: Completion | None = None,
        problems: Sequence[str] = (),
    ) -> Completion:
        import openai

        for _ in range(5):  # each retry turns one feature off for good, so this ends
            try:
                response = await self._client.chat.completions.create(
                    **self._request(system, user, schema, previous, problems)
                )
            except openai.BadRequestError as exc:
                if not self._adapt(str(exc).lower()):
                    raise ProviderError(http_reason(400, self._redact(exc.message))) from None
                continue
            except openai.APIStatusError as exc:
                raise ProviderError(
                    http_reason(exc.status_code, self._redact(exc.message))
                ) from None
            except openai.APITimeoutError:
                raise ProviderError("the model endpoint timed out") from None
            except openai.APIConnectionError:
                raise ProviderError("cannot reach the model endpoint") from None
            return self._completion(response)
        raise ProviderError("HTTP 400 from the model (bad request)")

    def _request(
        self,
        system: str,
        user: str,
        schema: dict[str, Any],
        previous: Completion | None,
        problems: Sequence[str],
    ) -> dict[str, Any]:
        response_format: dict[str, Any] | None = {
            "type": "json_schema",
            "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": schema},
        }
        if self.mode != "json_schema":
            response_format = {"type": "json_object"} if self.mode == "json_object" else None
            system = system + "\n\n" + schema_instructions(schema)
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]
        if previous is not None:
            messages += [
                {"role": "assistant", "content": previous.raw or "(no reply)"},
                {"role": "user", "content": repair_prompt(problems)},
            ]
        request: dict[str, Any] = {
            "model": self.config.model,
            "messages": messages,
            self.tokens_param: self.config.max_tokens,
        }
        if response_format is not None:
            request["response_format"] = response_format
        if self.send_temperature:
            request["temperature"] = self.config.temperature
        return request

    def _adapt(self, error: str) -> bool:
        """Step around a 400 caused by a feature this endpoint or model lacks."""
        if self.mode == "json_schema" and ("response_format" in error or "json_schema" in error):
            log.info("%s: json_schema refused; using JSON mode from now on", self.config.model)
            self.mode = "json_object"
        elif self.mode == "json_object" and "response_format" in error:
            log.info("%s: JSON mode refused; asking for JSON in words", self.config.model)
            self.mode = "text"
        elif self.tokens_param == "max_tokens" and "max_completion_tokens" in error:
            self.tokens_param = "max_completion_tokens"  # OpenAI's reasoning models
        elif self.send_temperature and "temperature" in error:
            self.send_temperature = False  # models that only take the default temperature
        else:
            return False
        return True

    def _completion(self, response: Any) -> Completion:
        usage = getattr(response, "usage", None)
        reply = Completion(
            raw="",
            input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        )
        choices = getattr(response, "choices", None) or []
        if not choices:
            reply.error = "the reply had no choices"
            return reply
        message = choices[0].message
        reply.raw = message.content or ""
        if getattr(message, "refusal", None):
            reply.error = "the model refused to produce a plan"
        elif choices[0].finish_reason == "length":
            reply.error = "the reply was cut off at max_tokens"
        else:
            reply.data, reply.error = parse_json(reply.raw)
        return reply

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "[key]") if self._key else text

    async def aclose(self) -> None:
        await self._client.close()


class AnthropicClient:
    """Messages API with one tool whose input schema is the plan, and tool_choice forcing
    it: Anthropic's way to get structured output. The plan is the tool_use input."""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        import anthropic

        self._key = config.api_key.get_secret_value() if config.api_key else ""
        self._client = anthropic.AsyncAnthropic(
            api_key=self._key or NO_KEY,
            base_url=config.base_url,
            timeout=config.timeout + 5,
            max_retries=0,
        )

    async def complete(
        self,
        system: str,
        user: str,
        schema: dict[str, Any],
        previous: Completion | None = None,
        problems: Sequence[str] = (),
    ) -> Completion:
        messages: list[dict[str, Any]] = [{"role": "user", "content": user}]
        if previous is not None and previous.tool_use_id:
            messages += [
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": previous.tool_use_id,
                            "name": TOOL_NAME,
                            "input": previous.data if isinstance(previous.data, dict) else {},
                        }
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": previous.tool_use_id,
                            "is_error": True,
                            "content": repair_prompt(problems),
                        }
                    ],
                },
            ]
        elif previous is not None:
            messages += [
                {"role": "assistant", "content": previous.raw or "(no reply)"},
                {"role": "user", "content": repair_prompt(problems)},
            ]
        import anthropic

        tool: ToolParam = {
            "name": TOOL_NAME,
            "description": "Record the one routing decision for this message.",
            "input_schema": cast("InputSchema", schema),
        }
        try:
            # No temperature: this SDK's Messages API no longer takes sampling parameters.
            response = await self._client.messages.create(
                model=self.config.model,
                max_tokens=self.config.max_tokens,
                system=system,
                messages=cast("list[MessageParam]", messages),
                tools=[tool],
                tool_choice={"type": "tool", "name": TOOL_NAME, "disable_parallel_tool_use": True},
            )
        except anthropic.APIStatusError as exc:
            raise ProviderError(http_reason(exc.status_code, self._redact(exc.message))) from None
        except anthropic.APITimeoutError:
            raise ProviderError("the model endpoint timed out") from None
        except anthropic.APIConnectionError:
            raise ProviderError("cannot reach the model endpoint") from None
        return self._completion(response)

    def _completion(self, response: Any) -> Completion:
        usage = getattr(response, "usage", None)
        reply = Completion(
            raw="",
            input_tokens=int(getattr(usage, "input_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "output_tokens", 0) or 0),
        )
        blocks = list(getattr(response, "content", None) or [])
        tool = next(
            (b for b in blocks if b.type == "tool_use" and getattr(b, "name", "") == TOOL_NAME),
            None,
        )
        if tool is None:
            reply.raw = " ".join(getattr(b, "text", "") for b in blocks if b.type == "text")
            reply.error = f"the reply did not call the {TOOL_NAME} tool"
            return reply
        reply.raw = json.dumps(tool.input, ensure_ascii=False)
        reply.tool_use_id = tool.id
        if response.stop_reason == "max_tokens":
            reply.error = "the reply was cut off at max_tokens"
        else:
            reply.data = tool.input
        return reply

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "[key]") if self._key else text

    async def aclose(self) -> None:
        await self._client.close()


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
