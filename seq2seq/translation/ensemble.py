"""Ensembles: several trained models decoding as one, by the mean of their log-probabilities at every step."""

from __future__ import annotations

from keras import ops

from seq2seq.errors import ConfigError
from seq2seq.translation.translating import Translating


class Ensemble(Translating):
    """Models with the same source and target vocabularies, of any architectures, searched together.

    Every search step runs each model's step and averages their log-probabilities; each model
    keeps its own decoder states and encoder memory, side by side in the search state. With
    one model (or one model given twice) the translations are that model's own. `translate`,
    `translate_nbest` and `translator` come from `Translating`, as a model's do.
    """

    def __init__(self, models, names=None):
        models = list(models)
        names = list(names or (f"model {i + 1}" for i in range(len(models))))
        if not models:
            raise ConfigError("an ensemble needs at least one model.")
        first = models[0]
        for model, name in zip(models[1:], names[1:]):
            for side in ("target", "source"):
                if getattr(model, f"{side}_vocab").get_config() != getattr(first, f"{side}_vocab").get_config():
                    raise ConfigError(
                        f"{name} has a different {side} vocabulary from {names[0]}; an ensemble's models must share "
                        "both vocabularies (train them on the same data with the same tokenizer settings)."
                    )
        self.models, self.names = models, names
        self.source_vocab, self.target_vocab = first.source_vocab, first.target_vocab
        self.state_counts = [len(model.state_names) for model in models]

    @property
    def has_attention(self) -> bool:
        """Whether every model attends (what the coverage penalty needs)."""
        return all(model.has_attention for model in self.models)

    def search_start(self, source_ids, beam: int = 1):
        """Each model's initial states, one after another, and a tuple of their memories (`()` where none)."""
        states, memories = [], []
        for model in self.models:
            model_states, memory = model.search_start(source_ids, beam)
            states.extend(model_states)
            memories.append(() if memory is None else memory)
        return states, tuple(memories)

    def _mean_step(self, step_name: str, token_ids, states, memories):
        """Run every model's `step_name` on its own states and memory; average what each returns beside its states."""
        averaged, new_states, at = [], [], 0
        for model, count, memory in zip(self.models, self.state_counts, memories):
            log_probs, model_states, *weights = getattr(model, step_name)(
                token_ids, list(states[at : at + count]), memory or None
            )
            averaged.append([log_probs, *weights])
            new_states.extend(model_states)
            at += count
        log_probs, *weights = (ops.mean(ops.stack(parts), axis=0) for parts in zip(*averaged))
        return (log_probs, new_states, *weights)

    def search_step(self, token_ids, states, memories):
        """The mean of the models' log-probabilities `(rows, vocab)`, and all their new states."""
        return self._mean_step("search_step", token_ids, states, memories)

    def attended_search_step(self, token_ids, states, memories):
        """`search_step` with the models' mean attention weights (every model attends)."""
        return self._mean_step("attended_search_step", token_ids, states, memories)
