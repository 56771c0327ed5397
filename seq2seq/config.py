"""Validated settings: the model's architecture and the training run.

Each field has a comment; `validate()` raises `ConfigError` naming the bad value and the fix.
Presets name well-known architectures; explicit fields override them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from seq2seq.errors import ConfigError

CELLS = ("lstm", "gru")
TOKENIZERS = ("char", "word")


@dataclass(frozen=True)
class ModelConfig:
    """The architecture of an encoder-decoder model."""

    preset: str = "classic"  # the named architecture this configuration started from
    cell: str = "lstm"  # recurrent cell of encoder and decoder: "lstm" or "gru"
    units: int = 256  # width of every recurrent layer
    layers: int = 1  # stacked recurrent layers in the encoder and in the decoder
    embedding_dim: int | None = None  # None: one-hot token inputs, as the classic recipe
    dropout: float = 0.0  # dropout on the inputs of every recurrent layer, in training only
    tokenizer: str = "char"  # how text becomes tokens: "char" or "word"
    lowercase: bool = False  # lower-case text before tokenizing (word tokenizer)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        _require_choice("cell", self.cell, CELLS)
        _require_choice("tokenizer", self.tokenizer, TOKENIZERS)
        _require_positive_int("units", self.units)
        _require_positive_int("layers", self.layers)
        if self.embedding_dim is not None:
            _require_positive_int("embedding_dim", self.embedding_dim, hint="or None for one-hot inputs")
        if not isinstance(self.lowercase, bool):
            raise ConfigError(f"lowercase must be true or false, got {self.lowercase!r}.")
        if self.preset not in PRESETS:
            raise ConfigError(f"unknown preset {self.preset!r}; choose one of: {', '.join(PRESETS)}.")
        if not _is_number(self.dropout) or not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be a number in [0, 1), got {self.dropout!r}.")

    @classmethod
    def from_preset(cls, name: str = "classic", **overrides) -> "ModelConfig":
        """The named preset, with any field replaced by a non-None override."""
        if name not in PRESETS:
            raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}.")
        values = {**PRESETS[name], "preset": name}
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls.from_dict(values)

    @classmethod
    def from_dict(cls, values: dict) -> "ModelConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"unknown model setting(s) {', '.join(unknown)}; valid ones are: {', '.join(sorted(known))}."
            )
        return cls(**values)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# The classic preset is the seed recipe: one LSTM layer of 256 units, one-hot characters.
PRESETS: dict[str, dict] = {
    "classic": {"cell": "lstm", "units": 256, "layers": 1, "embedding_dim": None, "tokenizer": "char"},
}


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained."""

    epochs: int = 10  # passes over the training pairs
    batch_size: int = 64  # pairs per gradient step
    validation_split: float = 0.2  # share of source sentences held out to pick the best epoch
    learning_rate: float = 1e-3  # Adam step size
    seed: int = 0  # seeds the split, the shuffling and the weight initialisation
    max_vocab_size: int | None = None  # keep at most this many tokens per side (word tokens)
    min_frequency: int = 1  # drop tokens seen fewer times than this (word tokens)
    verbose: int | str = "auto"  # Keras progress output: "auto", 0, 1 or 2
    extra: dict = field(default_factory=dict)  # free-form notes stored in the model's summary

    def __post_init__(self) -> None:
        _require_positive_int("epochs", self.epochs)
        _require_positive_int("batch_size", self.batch_size)
        _require_positive_int("min_frequency", self.min_frequency)
        if self.max_vocab_size is not None:
            _require_positive_int("max_vocab_size", self.max_vocab_size)
        if not _is_number(self.validation_split) or not 0.0 <= self.validation_split < 1.0:
            raise ConfigError(
                f"validation_split must be a number in [0, 1), got {self.validation_split!r}."
            )
        if not _is_number(self.learning_rate) or not math.isfinite(self.learning_rate) or self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be a positive number, got {self.learning_rate!r}.")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require_choice(name: str, value, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")


def _require_positive_int(name: str, value, hint: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        extra = f" ({hint})" if hint else ""
        raise ConfigError(f"{name} must be a positive integer{extra}, got {value!r}.")
