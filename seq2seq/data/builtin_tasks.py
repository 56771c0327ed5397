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


SEQUENCE_TASKS = {
    "reverse": lambda digits: digits[::-1],
    "sort": sorted,
}


def digit_sequence_pairs(
    count: int, task: str, seed: int = 0, shortest: int = 3, longest: int = 12
) -> list[tuple[str, str]]:
    """`count` distinct random digit sequences and the same digits reversed or sorted, space-separated.

    For example ("3 1 4 1 5", "5 1 4 1 3") for `task="reverse"`, ("3 1 4 1 5", "1 1 3 4 5") for
    `task="sort"`; lengths from `shortest` to `longest`. Tokens, not text: train them with the
    `space` tokenizer.
    """
    if task not in SEQUENCE_TASKS:
        raise ValueError(f"task must be one of {', '.join(SEQUENCE_TASKS)}, got {task!r}.")
    if count < 1:
        raise ValueError(f"count must be positive, got {count}.")
    generator, seen = random.Random(seed), set()
    while len(seen) < count:
        seen.add(tuple(str(generator.randrange(10)) for _ in range(generator.randint(shortest, longest))))
    sources = sorted(seen, key=lambda digits: (len(digits), digits))
    generator.shuffle(sources)
    return [(" ".join(digits), " ".join(SEQUENCE_TASKS[task](list(digits)))) for digits in sources]
