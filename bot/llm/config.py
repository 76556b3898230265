"""How to reach the language model that plans routing, and how long it may take."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

Provider = Literal["openai", "anthropic"]


class LLMConfig(BaseModel):
    """One model endpoint. `api_key` is a secret: it never prints, logs or enters a prompt."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: Provider = "openai"
    model: str = Field(min_length=1)
    base_url: str | None = None
    """Any OpenAI-compatible endpoint (Ollama, vLLM, LM Studio, a gateway…); None: the vendor's."""
    api_key: SecretStr | None = None
    """None sends a placeholder: local endpoints need no key, and the SDKs' own lookups of
    environment variables and credential files stay out of the way."""
    timeout: float = Field(default=10.0, gt=0)
    """The whole planning budget, repair included; after it the rule planner decides."""
    max_tokens: int = Field(default=800, gt=0)
    temperature: float = Field(default=0.0, ge=0, le=2)
