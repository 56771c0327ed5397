"""The JSON bodies the service accepts, built from `SearchConfig`'s fields so the two never drift."""

from __future__ import annotations

import dataclasses
import typing
from typing import Optional, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from seq2seq.search.config import SearchConfig

SERVER_SETTINGS = {"batch_size": "--max-batch"}  # SearchConfig fields the server sets, not the client


def client_search_fields() -> list[str]:
    """The `SearchConfig` fields a request may set."""
    return [f.name for f in dataclasses.fields(SearchConfig) if f.name not in SERVER_SETTINGS]


def _search_options() -> dict:
    hints = typing.get_type_hints(SearchConfig)
    return {name: (Optional[hints[name]], None) for name in client_search_fields()}


_STRICT = ConfigDict(extra="forbid", strict=True)

TranslateRequest = create_model(
    "TranslateRequest",
    __config__=_STRICT,
    texts=(list[str], Field(description="sentences to translate")),
    scores=(bool, Field(False, description="return every hypothesis with its score")),
    prefix=(
        Optional[Union[str, list[str]]],
        Field(None, description="what each output starts with: one text for all texts, or one per text"),
    ),
    **_search_options(),
)
TranslateRequest.__doc__ = (
    "Sentences to translate and, optionally, search settings (SearchConfig's fields; omitted ones keep their defaults)."
)


class AttentionRequest(BaseModel):
    """One sentence whose greedy translation's attention weights are wanted."""

    model_config = _STRICT
    text: str
    max_length: Optional[int] = None


class ScoreRequest(BaseModel):
    """[source, target] pairs to score and, optionally, the penalties of the beam search whose score is wanted."""

    model_config = _STRICT
    pairs: list[list[str]]  # [source, target] each (JSON has no tuples; app.py checks the length)
    length_penalty: Optional[float] = None
    coverage_penalty: Optional[float] = None
    strict: bool = False


def search_config(request) -> SearchConfig:
    """The `SearchConfig` a translate request asks for (validated by `SearchConfig` itself)."""
    chosen = {name: getattr(request, name) for name in client_search_fields() if getattr(request, name) is not None}
    return SearchConfig().replace(**chosen)
