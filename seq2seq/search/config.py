"""SearchConfig: every decoding setting in one validated object."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from seq2seq.errors import ConfigError
from seq2seq.settings_checks import (
    is_number,
    require_bool,
    require_non_negative_int,
    require_positive_int,
    require_seed,
)

MAX_NGRAM = 32  # the largest n-gram size --no-repeat-ngram accepts
MAX_BEAM = 128  # the widest beam: memory grows with beam x batch x length x vocabulary
MAX_OUTPUT_LENGTH = 4096  # the most tokens an output may be given (max_length, min_length)


@dataclass(frozen=True)
class SearchConfig:
    """How `translate` searches for output sentences."""

    beam: int = 1  # hypotheses kept per sentence (at most 128); 1 is greedy search
    nbest: int = 1  # hypotheses returned per sentence (at most `beam`)
    length_penalty: float = 0.0  # GNMT alpha: 0 scores by log-probability, higher favours longer outputs
    coverage_penalty: float = 0.0  # GNMT beta (beam search, attention models): penalise source tokens left unattended
    min_length: int = 0  # tokens before the end may be chosen (beam search only; below max_length)
    max_length: int | None = None  # most tokens per output (at most 4096); None: 2 x source tokens + 10
    no_repeat_ngram: int = 0  # forbid repeating any n-gram of this size (beam search); 0: off
    sample: bool = False  # draw tokens at random instead of searching
    temperature: float = 1.0  # sampling: below 1 sharpens the distribution, above 1 flattens it
    top_k: int = 0  # sampling: draw among the k most probable tokens only; 0: all
    top_p: float = 1.0  # sampling: draw among the most probable tokens holding this much mass
    seed: int | None = None  # sampling: the same seed gives the same draws
    batch_size: int = 256  # sentences decoded together
    strict: bool = False  # refuse sources with tokens outside the vocabulary instead of reading them as <unk>

    def __post_init__(self) -> None:
        for name in ("beam", "nbest", "batch_size"):
            require_positive_int(name, getattr(self, name))
        for name in ("min_length", "no_repeat_ngram", "top_k"):
            require_non_negative_int(name, getattr(self, name))
        if self.max_length is not None:
            require_positive_int("max_length", self.max_length, "or None to follow the source length")
        if self.nbest > self.beam:
            raise ConfigError(
                f"nbest ({self.nbest}) cannot exceed the beam ({self.beam}); pass --beam {self.nbest} or more."
            )
        for name in ("sample", "strict"):
            require_bool(name, getattr(self, name))
        if self.sample and self.beam > 1:
            raise ConfigError(
                "sampling draws one hypothesis per sentence; use --sample without --beam, or --beam without --sample."
            )
        if not is_number(self.length_penalty) or self.length_penalty < 0:
            raise ConfigError(f"length_penalty must be a number >= 0, got {self.length_penalty!r}.")
        if not is_number(self.coverage_penalty) or self.coverage_penalty < 0:
            raise ConfigError(f"coverage_penalty must be a number >= 0, got {self.coverage_penalty!r}.")
        if self.coverage_penalty and self.beam == 1:
            raise ConfigError(
                "coverage_penalty rescores the hypotheses of a beam search; pass --beam 2 or more with it."
            )
        if not is_number(self.temperature) or self.temperature <= 0:
            raise ConfigError(f"temperature must be a number > 0, got {self.temperature!r}; use greedy search for 0.")
        if not is_number(self.top_p) or not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p must be a number in (0, 1], got {self.top_p!r}.")
        require_seed(self.seed, optional=True)
        if self.no_repeat_ngram > MAX_NGRAM:
            # Each n-gram position is a separate operation in the compiled search.
            raise ConfigError(
                f"no_repeat_ngram must be at most {MAX_NGRAM}, got {self.no_repeat_ngram}; 3 or 4 is usual."
            )
        if self.max_length is not None and self.min_length >= self.max_length:
            raise ConfigError(f"min_length ({self.min_length}) must be below max_length ({self.max_length}).")
        self._validate_sizes()

    def _validate_sizes(self) -> None:
        """Caps that keep one search within memory and time, and min_length only where it is honoured."""
        if self.beam > MAX_BEAM:
            raise ConfigError(f"beam must be at most {MAX_BEAM}, got {self.beam}; 4 to 10 is usual.")
        for name in ("max_length", "min_length"):
            value = getattr(self, name)
            if value is not None and value > MAX_OUTPUT_LENGTH:
                raise ConfigError(f"{name} must be at most {MAX_OUTPUT_LENGTH} tokens, got {value}.")
        if self.min_length and self.beam == 1:
            raise ConfigError(
                f"min_length ({self.min_length}) holds back the end in beam search only; pass --beam 2 or more with it "
                "(greedy search and sampling cannot honour it)."
            )

    def replace(self, **overrides) -> "SearchConfig":
        """A copy with some settings changed; an unknown name is refused with the valid ones."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(
                f"unknown search setting(s) {', '.join(unknown)}; valid ones are: {', '.join(sorted(known))}."
            )
        return dataclasses.replace(self, **overrides)

    @property
    def strategy_key(self) -> tuple:
        """The settings that shape the compiled search (not the batch size, lengths or seed)."""
        return (
            self.beam,
            self.nbest,
            self.length_penalty,
            self.coverage_penalty,
            self.min_length,
            self.no_repeat_ngram,
            self.sample,
            self.temperature,
            self.top_k,
            self.top_p,
        )
