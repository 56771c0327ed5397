"""Settings keys that layers wrote under other names before they took the command line's names.

Model files keep a layer's `get_config` as it was written; `current_keys` renames the former
keys so that those files still load.
"""

from __future__ import annotations


def current_keys(config: dict, renames: dict[str, str]) -> dict:
    """A copy of `config` with each former key of `renames` (former -> current) under its current name."""
    return {renames.get(key, key): value for key, value in config.items()}
