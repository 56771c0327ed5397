"""Sizes before anything is built: a model's parameters and a training's memory, from the settings alone.

A setting such as `--units 100000` would otherwise be found by Keras after half a minute as a
`ResourceExhaustedError`, or by the operating system's out-of-memory killer. `check_fits`
refuses such a training in one line that gives the estimate and the limit. The estimate counts
the weights exactly (tested against built models) and the memory as
float32 weights, their gradients and Adam's two moments, plus the activations and logits of
the largest batch; it is a lower bound of what the process needs, so what it refuses cannot fit.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from seq2seq.config import ModelConfig
from seq2seq.errors import ConfigError

BYTES_PER_VALUE = 4  # float32
COPIES_PER_WEIGHT = 4  # the weight, its gradient and Adam's two moments
LIMIT_VARIABLE = "SEQ2SEQ_MEMORY_LIMIT"  # a cap in bytes ("8G", "512M"), instead of the memory available now
_GATES = {"lstm": 4, "gru": 3}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class SizeEstimate:
    """What a training needs: weights, and the bytes of weights, optimizer state and the largest batch."""

    parameters: int
    weight_bytes: int
    batch_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.weight_bytes + self.batch_bytes


def recurrent_parameters(cell: str, input_width: int, units: int) -> int:
    """Weights of one recurrent layer, one direction (Keras' GRU keeps two biases per gate)."""
    biases = 2 if cell == "gru" else 1
    return _GATES[cell] * units * (input_width + units + biases)


def count_parameters(config: ModelConfig, source_vocabulary: int, target_vocabulary: int) -> int:
    """The model's weights for these settings and vocabulary sizes (special tokens included)."""
    directions = 2 if config.bidirectional else 1
    total = 0
    width = config.embedding_dim or source_vocabulary
    for _ in range(config.layers):
        total += directions * recurrent_parameters(config.cell, width, config.units)
        width = config.encoder_output_units
    decoder, memory = config.decoder_units, config.encoder_output_units
    if config.bridge == "dense":
        states = config.decoder_depth * (2 if config.cell == "lstm" else 1)
        total += states * (memory + 1) * decoder
    width = config.embedding_dim or target_vocabulary
    if config.attention != "none":
        width += decoder  # input feeding: the previous attentional vector joins the token
        total += _attention_parameters(config.attention, decoder, memory) + (memory + decoder) * decoder
    for _ in range(config.decoder_depth):
        total += recurrent_parameters(config.cell, width, decoder)
        width = decoder
    if config.embedding_dim:
        shared = config.joint_vocab and config.tie_embeddings  # one matrix for source, target and output
        total += (target_vocabulary if shared else source_vocabulary + target_vocabulary) * config.embedding_dim
    if config.tie_embeddings:  # the target embedding scores the tokens: only a bias, and a map to its width
        return total + target_vocabulary + (0 if decoder == config.embedding_dim else decoder * config.embedding_dim)
    return total + (decoder + 1) * target_vocabulary


def _attention_parameters(attention: str, query: int, memory: int) -> int:
    if attention == "bahdanau":
        return query * query + memory * query + query
    if attention == "luong-general":
        return memory * query
    return 0


def estimate(
    config: ModelConfig,
    source_vocabulary: int,
    target_vocabulary: int,
    batch_size: int,
    source_length: int,
    target_length: int,
) -> SizeEstimate:
    """The size of a training on batches of `batch_size` pairs of at most these lengths in tokens."""
    parameters = count_parameters(config, source_vocabulary, target_vocabulary)
    gates = _GATES[config.cell] + 2  # gate activations, the cell state and the output kept for the backward pass
    encoder = source_length * config.layers * (2 if config.bidirectional else 1) * config.units * gates
    decoder = target_length * config.decoder_depth * config.decoder_units * gates
    inputs = source_length * (config.embedding_dim or source_vocabulary) + target_length * (
        config.embedding_dim or target_vocabulary
    )
    logits = 3 * target_length * target_vocabulary  # logits, probabilities and their gradient
    batch = batch_size * (encoder + decoder + inputs + logits) * BYTES_PER_VALUE
    return SizeEstimate(parameters, parameters * BYTES_PER_VALUE * COPIES_PER_WEIGHT, batch)


def corpus_sizes(config: ModelConfig, pairs: Sequence[tuple[str, str]]) -> tuple[int, int, int, int]:
    """(source vocabulary, target vocabulary, longest source, longest target) in tokens, estimated cheaply.

    Characters are counted exactly; words and subword pieces from white-space-separated words
    (a subword vocabulary is its configured size).
    """
    sizes = []
    for side in (0, 1):
        texts = [pair[side] for pair in pairs]
        if config.tokenizer == "char":
            vocabulary = len(set().union(*map(set, texts))) if texts else 0
            longest = max(map(len, texts), default=0)
        else:
            vocabulary = len({word for text in texts for word in text.split()})
            longest = max((2 * len(text.split()) for text in texts), default=0)
        if config.tokenizer == "subword":
            vocabulary = config.effective_vocab_size
        elif config.vocab_size is not None:
            vocabulary = min(vocabulary, config.vocab_size)
        sizes.append((vocabulary + 4, longest + 1))  # the special tokens; the end (or start) token
    return sizes[0][0], sizes[1][0], sizes[0][1], sizes[1][1]


def memory_limit() -> tuple[int | None, str]:
    """The bytes a training may use and where the figure comes from; (None, "") where nothing tells."""
    given = os.environ.get(LIMIT_VARIABLE)
    if given:
        return parse_size(given), f"{LIMIT_VARIABLE}={given}"
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024, "the memory available now"
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"), "the free memory now"
    except (AttributeError, ValueError, OSError):
        return None, ""


def parse_size(text: str) -> int:
    """Bytes in `"8G"`, `"512M"`, `"1.5g"` or `"1000000"`."""
    match = _SIZE.match(str(text))
    if not match:
        raise ConfigError(f"{LIMIT_VARIABLE} must be a size such as 8G or 512M, got {text!r}.")
    return int(float(match.group(1)) * 1024 ** " kmgt".index(match.group(2).lower() or " "))


def format_bytes(count: float) -> str:
    """`2.5 GB`, `310 MB`: the largest binary unit below the count, three figures."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if count < 1024 or unit == "PB":
            return f"{count:.3g} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def check_fits(
    config: ModelConfig, pairs: Sequence[tuple[str, str]], batch_size: int, batch_tokens: int | None = None
) -> SizeEstimate:
    """The estimate for training `config` on `pairs`; ConfigError with the estimate and the limit if it cannot fit.

    With `batch_tokens` a batch holds that many target positions, so the batch of the longest
    pairs has `batch_tokens // longest target` rows (shorter buckets have more rows of the same
    total size).
    """
    source_vocabulary, target_vocabulary, source_length, target_length = corpus_sizes(config, pairs)
    if batch_tokens is not None:
        batch_size = max(1, batch_tokens // max(target_length, 1))
    found = estimate(config, source_vocabulary, target_vocabulary, batch_size, source_length, target_length)
    limit, where = memory_limit()
    if limit is not None and found.total_bytes > limit:
        raise ConfigError(
            f"this training needs at least {format_bytes(found.total_bytes)} of memory ({found.parameters:,} "
            "parameters: "
            f"{format_bytes(found.weight_bytes)} with gradients and optimizer state; {format_bytes(found.batch_bytes)} "
            f"for a batch of {batch_size} pairs of up to {source_length} and {target_length} tokens), but the limit is "
            f"{format_bytes(limit)} ({where}); lower --units, --embedding-dim, --layers, --vocab-size or "
            f"{'--batch-tokens' if batch_tokens is not None else '--batch-size'}."
        )
    return found
