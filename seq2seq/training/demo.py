"""The built-in demos, generated on the spot: number words (English to French) and digit sequences (reverse, sort)."""

from __future__ import annotations

import time

from seq2seq.config import ModelConfig, TrainConfig
from seq2seq.data.builtin_tasks import SEQUENCE_TASKS, digit_sequence_pairs, number_words_pairs
from seq2seq.data.corpus import split_pairs
from seq2seq.models.format import prepare_model_destination
from seq2seq.training.fit import train

DEMO_PAIRS = 10_000  # every number from 0 to 9,999
DEMO_EPOCHS = 12  # 99.6-99.7 % held out on seeds 0 and 2; 10 epochs left some seeds at 88-94 %
HELD_OUT = 0.1  # share of numbers never seen in training, for the accuracy
TASKS = ("numbers", *SEQUENCE_TASKS)
SEQUENCE_EPOCHS = 8


def demo_model_config() -> ModelConfig:
    """The classic architecture (one LSTM of 256, states passed) over word tokens."""
    return ModelConfig.from_preset("classic", tokenizer="word", embedding_dim=64)


def exact_match(hypotheses: list[str], references: list[str]) -> float:
    """Share of hypotheses identical to their reference."""
    return sum(h == r for h, r in zip(hypotheses, references)) / max(len(references), 1)


def sequence_model_config() -> ModelConfig:
    """A small attention model over space-separated tokens, for the digit-sequence tasks."""
    return ModelConfig.from_preset("attention", tokenizer="space", units=128, embedding_dim=32, vocab_size=None)


def task_setup(task: str, seed: int):
    """(pairs, model settings, default epochs, one line describing the task) of a built-in task."""
    if task == "numbers":
        pairs = number_words_pairs(DEMO_PAIRS, seed=seed)
        return pairs, demo_model_config(), DEMO_EPOCHS, f"{len(pairs)} numbers in English words -> French words"
    if task in SEQUENCE_TASKS:
        pairs = digit_sequence_pairs(DEMO_PAIRS, task, seed=seed)
        return (
            pairs,
            sequence_model_config(),
            SEQUENCE_EPOCHS,
            f"{len(pairs)} digit sequences -> the same digits, {'reversed' if task == 'reverse' else 'sorted'}",
        )
    raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}.")


def run_demo(
    out: str = "demo-model.keras", epochs: int | None = None, seed: int = 0, show: int = 8, task: str = "numbers"
) -> dict:
    """Generate the task, train, print example translations and held-out accuracy, save."""
    pairs, model_config, default_epochs, description = task_setup(task, seed)
    prepare_model_destination(out)  # before training, not after it
    started = time.perf_counter()
    train_pairs, test_pairs = split_pairs(pairs, HELD_OUT, seed=seed)
    print(f"Task: {description}; {len(test_pairs)} held out for testing.")
    model = train(
        train_pairs,
        model_config,
        TrainConfig(epochs=epochs or default_epochs, seed=seed, validation_split=0.1, verbose=2),
        data_description=f"built-in task {task!r}: {len(train_pairs)} pairs",
    )
    sources = [source for source, _ in test_pairs]
    references = [reference for _, reference in test_pairs]
    hypotheses = model.translate(sources)
    accuracy = exact_match(hypotheses, references)
    print("\nExamples of held-out inputs:")
    for source, hypothesis, reference in list(zip(sources, hypotheses, references))[:show]:
        mark = "ok " if hypothesis == reference else "BAD"
        print(
            f"  [{mark}] {source!r} -> {hypothesis!r}"
            + ("" if hypothesis == reference else f" (expected {reference!r})")
        )
    model.save(out)
    seconds = time.perf_counter() - started
    print(f"\nHeld-out exact-match accuracy: {accuracy:.1%} on {len(test_pairs)} inputs never seen in training.")
    print(f'Saved the model to {out} ({seconds:.0f} s in all). Try: seq2seq translate {out} "{sources[0]}"')
    return {"accuracy": accuracy, "seconds": seconds, "held_out": len(test_pairs)}
