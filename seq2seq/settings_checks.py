"""Checks shared by the settings objects; each failure is a `ConfigError` naming field and value."""

from __future__ import annotations

import math

from seq2seq.errors import ConfigError


def is_number(value) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def require_positive_int(name: str, value, hint: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        extra = f" ({hint})" if hint else ""
        raise ConfigError(f"{name} must be a positive integer{extra}, got {value!r}.")


def require_non_negative_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name} must be an integer >= 0, got {value!r}.")


def require_seed(value, optional: bool = False) -> None:
    """A seed is an integer from 0 to 2**32 - 1, as NumPy and Keras take it (or None if optional)."""
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
        raise ConfigError(f"seed must be an integer from 0 to 2**32 - 1, got {value!r}.")


def require_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")


def require_bool(name: str, value) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, got {value!r}.")
