"""Validated settings: the model's architecture and the training run.

Each field has a comment; `validate()` raises `ConfigError` naming the bad value and the fix.
Presets name well-known architectures; explicit fields override them.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

import yaml

from seq2seq.errors import ConfigError
from seq2seq.settings_checks import is_number, require_bool, require_choice, require_positive_int, require_seed

CELLS = ("lstm", "gru")
TOKENIZERS = ("char", "word", "subword", "space")
POOLINGS = ("final", "mean")  # sentence vectors: the encoder's last hidden state, or its outputs averaged
BRIDGES = ("concat", "sum", "dense", "mean", "zero")
ATTENTIONS = ("none", "bahdanau", "luong-dot", "luong-general")
LR_SCHEDULES = ("constant", "linear", "cosine")
SELECT_BY = ("loss", "bleu", "chrf")
DEFAULT_SUBWORD_VOCABULARY = 8000
MAX_LAYERS = 32  # the deepest encoder or decoder: each layer is a step of the recurrence over the whole sequence
MAX_VOCABULARY = 1_000_000  # the most tokens per side; SentencePiece counts pieces in 32-bit integers


@dataclass(frozen=True)
class ModelConfig:
    """The architecture of an encoder-decoder model."""

    preset: str = "classic"  # the named architecture this configuration started from
    cell: str = "lstm"  # recurrent cell of encoder and decoder: "lstm" or "gru"
    units: int = 256  # width of each encoder layer (per direction); the decoder's follows the bridge
    layers: int = 1  # encoder depth, and decoder depth unless decoder_layers is set
    decoder_layers: int | None = None  # decoder depth where it differs from the encoder's
    bidirectional: bool = False  # read the source both ways; final states are merged by the bridge
    bridge: str = "concat"  # encoder final states -> decoder initial states: concat|sum|dense|mean|zero
    attention: str = "none"  # none | bahdanau (additive) | luong-dot | luong-general, with input feeding
    embedding_dim: int | None = None  # None: one-hot token inputs, as the classic recipe
    dropout: float = 0.0  # dropout on the inputs of every recurrent layer, in training only
    tokenizer: str = "char"  # how text becomes tokens: char, word, subword (SentencePiece), space (items as written)
    lowercase: bool = False  # lower-case text before tokenizing
    vocab_size: int | None = None  # per side, or in all if joint: word keeps the most frequent; subword pieces (8000)
    joint_vocab: bool = False  # one vocabulary (one SentencePiece model) of both sides' text, the same ids on each
    tie_embeddings: bool = False  # target embedding = output projection's matrix (and the source's, if joint_vocab)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        require_choice("cell", self.cell, CELLS)
        require_choice("tokenizer", self.tokenizer, TOKENIZERS)
        require_choice("bridge", self.bridge, BRIDGES)
        require_choice("attention", self.attention, ATTENTIONS)
        require_positive_int("units", self.units)
        require_positive_int("layers", self.layers)
        for name in ("decoder_layers", "vocab_size"):
            if getattr(self, name) is not None:
                require_positive_int(name, getattr(self, name), hint="or None")
        for name, most in (("layers", MAX_LAYERS), ("decoder_layers", MAX_LAYERS), ("vocab_size", MAX_VOCABULARY)):
            if getattr(self, name) is not None and getattr(self, name) > most:
                raise ConfigError(f"{name} must be at most {most:,}, got {getattr(self, name):,}.")
        if self.embedding_dim is not None:
            require_positive_int("embedding_dim", self.embedding_dim, hint="or None for one-hot inputs")
        for name in ("lowercase", "bidirectional", "joint_vocab", "tie_embeddings"):
            require_bool(name, getattr(self, name))
        if self.preset not in PRESETS:
            raise ConfigError(f"unknown preset {self.preset!r}; choose one of: {', '.join(PRESETS)}.")
        if not is_number(self.dropout) or not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be a number in [0, 1), got {self.dropout!r}.")
        self._validate_combination()

    def _validate_combination(self) -> None:
        if self.tie_embeddings and self.embedding_dim is None:
            raise ConfigError("tie_embeddings needs embedded inputs: set embedding_dim, or --no-tie-embeddings.")
        if self.bridge == "zero" and self.attention == "none":
            raise ConfigError(
                "bridge 'zero' passes no state, so the decoder would never see the source; "
                "use it with attention (e.g. --attention luong-general) or choose another bridge."
            )
        if self.attention == "luong-dot" and self.decoder_units != self.encoder_output_units:
            raise ConfigError(
                f"attention 'luong-dot' needs decoder and encoder outputs of one width, but they are "
                f"{self.decoder_units} and {self.encoder_output_units}; use luong-general, or bridge concat."
            )

    @property
    def decoder_depth(self) -> int:
        """Number of decoder layers."""
        return self.decoder_layers or self.layers

    @property
    def encoder_output_units(self) -> int:
        """Width of the encoder's outputs (both directions concatenated)."""
        return 2 * self.units if self.bidirectional else self.units

    @property
    def decoder_units(self) -> int:
        """Width of each decoder layer: twice the encoder's where a concat bridge joins two directions."""
        return 2 * self.units if self.bidirectional and self.bridge == "concat" else self.units

    @property
    def effective_vocab_size(self) -> int | None:
        """The vocabulary limit (per side, or of the one joint vocabulary), with the subword default filled in."""
        if self.tokenizer == "subword" and self.vocab_size is None:
            return DEFAULT_SUBWORD_VOCABULARY
        return self.vocab_size

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
        unknown = sorted(set(values) - set(cls.field_names()))
        if unknown:
            raise ConfigError(
                f"unknown model setting(s) {', '.join(unknown)}; valid ones are: "
                f"{', '.join(sorted(cls.field_names()))}."
            )
        return cls(**values)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# The three models of the literature. `classic` is the seed recipe: one LSTM layer of 256
# units over one-hot characters, its final states initialising the decoder.
PRESETS: dict[str, dict] = {
    "classic": {"cell": "lstm", "units": 256, "layers": 1, "embedding_dim": None, "tokenizer": "char"},
    "bidirectional": {
        "cell": "lstm",
        "units": 256,
        "layers": 1,
        "bidirectional": True,
        "bridge": "concat",
        "embedding_dim": None,
        "tokenizer": "char",
    },
    "attention": {
        "cell": "lstm",
        "units": 256,
        "layers": 1,
        "bidirectional": True,
        "bridge": "dense",
        "attention": "luong-general",
        "embedding_dim": 256,
        "dropout": 0.1,  # 0.3 lost at every epoch of a 20-minute run (validation 1.423 against 1.413 at epoch 6)
        "tokenizer": "subword",
        "vocab_size": 4000,  # pieces in all (joint), per side without: a smaller softmax trains faster on a CPU
        "joint_vocab": True,  # one vocabulary, one matrix (also the output projection): in 20 minutes beam-5 BLEU
        "tie_embeddings": True,  # 47.19 against 45.97 with separate ones, 37 % fewer parameters (3.46 M against 5.51 M)
    },
}


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "": 1}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")


def parse_duration(text) -> float:
    """Seconds in `"90"`, `"90s"`, `"20m"` or `"1.5h"` (or a positive number of seconds); a clear error otherwise."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text))
        if not match:
            raise ConfigError(f"max_time must be a duration such as 90s, 20m or 1.5h, got {text!r}.")
        seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if seconds <= 0:
        raise ConfigError(f"max_time must be a positive duration, got {text!r}.")
    return seconds


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained."""

    epochs: int = 10  # passes over the training pairs
    batch_size: int = 64  # pairs per gradient step
    batch_tokens: int | None = None  # set: batches of <= N target positions (rows x width), not batch_size; same lr
    validation_split: float = 0.2  # share of source sentences held out to pick the best model...
    max_validation_sources: int | None = 1000  # ...but at most this many (None: no cap): big corpora train on most
    validation_file: str | None = None  # a Tatoeba/Anki file of validation pairs: all pairs train, none is split off
    validate_every: int | None = None  # also validate every N steps (long epochs), keeping the best weights found
    select_by: str = "loss"  # keep the weights with the best validation "loss", or greedy "bleu" or "chrf"
    average_last: int | None = None  # at the end, try the mean of the last N epochs' weights; kept if better
    learning_rate: float = 3e-3  # Adam step size (the base rate that a schedule decays)
    lr_schedule: str | None = None  # constant|linear|cosine decay to 0; None: linear, constant with reduce_lr_patience
    lr_decay_start: float = 0.5  # share of the training (steps or time budget) at the base rate before the decay
    seed: int = 0  # seeds the split, the shuffling and the weight initialisation
    min_frequency: int = 1  # drop tokens seen fewer times than this (word and subword tokens)
    source_embeddings: str | None = None  # word vectors (GloVe / word2vec text) for the source embedding
    target_embeddings: str | None = None  # the same for the target embedding
    patience: int | None = None  # stop after this many epochs without a better validation loss
    reduce_lr_patience: int | None = None  # halve the learning rate after this many epochs without one
    clip_norm: float | None = None  # clip each gradient to this global norm
    max_time: float | str | None = None  # stop after this long ("90s", "20m", "1.5h" or seconds), keep the best model
    label_smoothing: float = 0.0  # share of each target's probability spread over the other tokens
    checkpoint_dir: str | None = None  # write a checkpoint here after every epoch (resumable)
    logdir: str | None = None  # TensorBoard logs
    distribute: str | None = None  # None, "mirrored" (all local devices) or "multi-worker" (TF_CONFIG)
    mixed_precision: bool = False  # bfloat16 maths with float32 weights, where the hardware pays
    verbose: int | str = "auto"  # Keras progress output: "auto", 0, 1 or 2
    extra: dict = field(default_factory=dict)  # free-form notes stored in the model's summary

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls) if f.name not in ("extra", "verbose")]

    @property
    def schedule(self) -> str:
        """The learning-rate schedule in force: linear decay unless the plateau halving is asked for."""
        return self.lr_schedule or ("constant" if self.reduce_lr_patience else "linear")

    def __post_init__(self) -> None:
        require_positive_int("epochs", self.epochs)
        require_positive_int("batch_size", self.batch_size)
        if self.batch_tokens is not None:
            require_positive_int("batch_tokens", self.batch_tokens, hint="or None")
        require_positive_int("min_frequency", self.min_frequency)
        require_seed(self.seed)
        if not is_number(self.validation_split) or not 0.0 <= self.validation_split < 1.0:
            raise ConfigError(f"validation_split must be a number in [0, 1), got {self.validation_split!r}.")
        if not is_number(self.learning_rate) or self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be a positive number, got {self.learning_rate!r}.")
        require_choice("select_by", self.select_by, SELECT_BY)
        for name in ("patience", "reduce_lr_patience", "max_validation_sources", "validate_every", "average_last"):
            if getattr(self, name) is not None:
                require_positive_int(name, getattr(self, name), hint="or None")
        if self.average_last == 1:
            raise ConfigError(
                "average_last must be at least 2 (the number of last epochs whose weights are averaged), or None."
            )
        if self.clip_norm is not None and (not is_number(self.clip_norm) or self.clip_norm <= 0):
            raise ConfigError(f"clip_norm must be a positive number, got {self.clip_norm!r}.")
        if not is_number(self.lr_decay_start) or not 0.0 <= self.lr_decay_start < 1.0:
            raise ConfigError(f"lr_decay_start must be a number in [0, 1), got {self.lr_decay_start!r}.")
        if self.lr_schedule is not None:
            require_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
            if self.lr_schedule != "constant" and self.reduce_lr_patience:
                raise ConfigError(
                    f"lr_schedule {self.lr_schedule!r} and reduce_lr_patience both set the learning rate; "
                    "choose one (lr_schedule constant keeps the plateau halving)."
                )
        if self.max_time is not None:
            object.__setattr__(self, "max_time", parse_duration(self.max_time))
        if self.distribute is not None:
            require_choice("distribute", self.distribute, ("mirrored", "multi-worker"))
        require_bool("mixed_precision", self.mixed_precision)
        if not is_number(self.label_smoothing) or not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"label_smoothing must be a number in [0, 1), got {self.label_smoothing!r}.")


DATA_KEYS = ("data", "source_file", "target_file", "limit", "skip_bad_lines", "out")


def settings_keys() -> list[str]:
    """Every key a training settings file may hold."""
    return sorted(set(DATA_KEYS) | set(ModelConfig.field_names()) | set(TrainConfig.field_names()))


def read_settings_file(path) -> dict:
    """Training settings from a YAML mapping; an unknown key fails and lists the valid ones."""
    try:
        with open(path, encoding="utf-8") as handle:
            values = yaml.safe_load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such settings file.") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, expected a YAML settings file.") from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{error.object[error.start]:02x}); give a YAML settings file."
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(error, 'problem', None) or error}).") from None
    values = {} if values is None else values
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a mapping of settings (key: value), got a {type(values).__name__}.")
    unknown = sorted(str(key) for key in values if key not in settings_keys())
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; valid ones are: {', '.join(settings_keys())}."
        )
    return values
