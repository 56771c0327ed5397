"""The settings of a forecasting model (`ForecastConfig`, stored in its file) and of its training."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from seq2seq.config import parse_duration
from seq2seq.errors import ConfigError
from seq2seq.layers.attention import KINDS as ATTENTION_KINDS
from seq2seq.settings_checks import is_number, require_bool, require_choice, require_positive_int, require_seed

LOSSES = ("mse", "mae", "gaussian", "quantile")
CELLS = ("lstm", "gru")
MOST_LOOKBACK = 10_000  # steps the encoder reads; longer pasts cost memory and time for little
MOST_HORIZON = 1_000


@dataclass(frozen=True)
class ForecastConfig:
    """How a forecasting model is built and what it forecasts."""

    lookback: int = 24  # past steps the encoder reads
    horizon: int = 12  # future steps the decoder forecasts, one at a time
    stride: int = 1  # steps between the starts of consecutive training windows
    cell: str = "lstm"  # lstm | gru
    units: int = 32  # width of each recurrent layer (the decoder's is doubled over a bidirectional encoder)
    layers: int = 1  # recurrent layers in the encoder and in the decoder
    bidirectional: bool = False  # the encoder reads the past both ways
    attention: str = "none"  # none | bahdanau | luong-dot | luong-general: the decoder attends to the encoded past
    dropout: float = 0.0  # on the encoder's inputs and recurrent layers, in training
    loss: str = "mse"  # mse | mae (point forecasts) | gaussian | quantile (with prediction intervals)
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)  # the quantile loss's levels; pairs (q, 1-q) give intervals
    levels: tuple[float, ...] = (0.8, 0.95)  # the gaussian loss's interval coverages
    calendar: bool = True  # calendar features of dated series as future covariates
    teacher_forcing: bool | None = None  # train feeding the decoder true values; None: for mse and mae only
    scheduled_sampling: float = 0.0  # share of decoder steps fed the model's own forecast by the last epoch
    linear_skip: bool = True  # the decoder forecasts the residual over a linear forecast from the lookback

    def __post_init__(self) -> None:
        for name in ("lookback", "horizon", "stride", "units", "layers"):
            require_positive_int(name, getattr(self, name))
        if self.lookback > MOST_LOOKBACK or self.horizon > MOST_HORIZON:
            raise ConfigError(
                f"lookback is at most {MOST_LOOKBACK} and horizon at most {MOST_HORIZON}, got "
                f"{self.lookback} and {self.horizon}."
            )
        require_choice("cell", self.cell, CELLS)
        require_choice("attention", self.attention, ("none", *ATTENTION_KINDS))
        require_choice("loss", self.loss, LOSSES)
        require_bool("bidirectional", self.bidirectional)
        require_bool("calendar", self.calendar)
        require_bool("linear_skip", self.linear_skip)
        if self.teacher_forcing is not None:
            require_bool("teacher_forcing", self.teacher_forcing)
        for name in ("dropout", "scheduled_sampling"):
            value = getattr(self, name)
            if not is_number(value) or not 0.0 <= value < 1.0:
                raise ConfigError(f"{name} must be a number in [0, 1), got {value!r}.")
        if self.teacher_forcing is False and self.scheduled_sampling:
            raise ConfigError(
                "scheduled_sampling mixes teacher forcing with the model's own forecasts; it needs teacher_forcing "
                f"on (or unset), got teacher_forcing False and scheduled_sampling {self.scheduled_sampling}."
            )
        for name in ("quantiles", "levels"):
            values = tuple(float(v) if is_number(v) else v for v in getattr(self, name))
            if not values or not all(is_number(v) and 0.0 < v < 1.0 for v in values):
                raise ConfigError(f"{name} must be numbers between 0 and 1 (exclusive), got {values!r}.")
            if len(set(values)) != len(values):
                raise ConfigError(f"{name} must not repeat a value, got {values!r}.")
            object.__setattr__(self, name, tuple(sorted(values)))

    @property
    def outputs_per_target(self) -> int:
        """What the head gives per target and step: a value, a mean and a scale, or one value per quantile."""
        return {"gaussian": 2, "quantile": len(self.quantiles)}.get(self.loss, 1)

    @property
    def probabilistic(self) -> bool:
        return self.loss in ("gaussian", "quantile")

    @property
    def teacher_forced(self) -> bool:
        """Whether training feeds the decoder the true previous values (else its own forecasts, as forecasting does).

        By default only point losses train teacher-forced: a probabilistic head trained on its
        own forecasts learns the spread of the multi-step forecast it will be asked for, so its
        intervals widen with the horizon; teacher-forced, it learns one-step-ahead spreads.
        """
        if self.teacher_forcing is None:
            return not self.probabilistic or self.scheduled_sampling > 0
        return self.teacher_forcing

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "quantiles": list(self.quantiles), "levels": list(self.levels)}

    @classmethod
    def from_dict(cls, values: dict) -> ForecastConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown forecast setting {unknown[0]!r}; known: {', '.join(sorted(known))}.")
        return cls(**{key: tuple(v) if isinstance(v, list) else v for key, v in values.items()})


@dataclass(frozen=True)
class ForecastTrainConfig:
    """How a forecasting model is trained."""

    epochs: int = 50  # passes over the training windows
    batch_size: int = 32  # windows per gradient step
    learning_rate: float = 3e-3  # Adam's step size
    validation: int | None = None  # last steps of each series held out to pick the best epoch; None: one horizon
    patience: int | None = 10  # stop after this many epochs without a better validation loss; None: never
    clip_norm: float | None = 1.0  # clip each gradient to this global norm; None: no clipping
    max_time: float | str | None = None  # stop after this long ("90s", "20m") and keep the best model
    checkpoint_dir: str | None = None  # write a checkpoint here after every epoch (resumable)
    seed: int = 0  # seeds the weights, the shuffling and scheduled sampling
    verbose: int | str = "auto"  # Keras progress output

    def __post_init__(self) -> None:
        require_positive_int("epochs", self.epochs)
        require_positive_int("batch_size", self.batch_size)
        require_seed(self.seed)
        if not is_number(self.learning_rate) or self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be a positive number, got {self.learning_rate!r}.")
        if self.validation is not None and (
            isinstance(self.validation, bool) or not isinstance(self.validation, int) or self.validation < 0
        ):
            raise ConfigError(f"validation must be a number of time steps >= 0 or None, got {self.validation!r}.")
        if self.patience is not None:
            require_positive_int("patience", self.patience, hint="or None")
        if self.clip_norm is not None and (not is_number(self.clip_norm) or self.clip_norm <= 0):
            raise ConfigError(f"clip_norm must be a positive number, got {self.clip_norm!r}.")
        if self.max_time is not None:
            object.__setattr__(self, "max_time", parse_duration(self.max_time))

    def validation_steps(self, horizon: int) -> int:
        return horizon if self.validation is None else self.validation
