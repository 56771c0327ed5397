"""Built-in tasks generated on the spot, so a demo needs no download."""

from __future__ import annotations

import random

from num2words import num2words


def number_words_pairs(count: int, seed: int = 0, largest: int = 9_999) -> list[tuple[str, str]]:
    """`count` distinct numbers from 0 to `largest`, written in English words and in French words.

    For example ("three hundred and forty-two", "trois cent quarante-deux").
    """
    if not 0 < count <= largest + 1:
        raise ValueError(f"count must be between 1 and {largest + 1}, got {count}.")
    numbers = random.Random(seed).sample(range(largest + 1), count)
    return [(num2words(n, lang="en"), num2words(n, lang="fr")) for n in numbers]
