"""Every search strategy, and the one a `SearchConfig` asks for."""

from __future__ import annotations

from seq2seq.search.beam import BeamSearch
from seq2seq.search.config import SearchConfig
from seq2seq.search.greedy import GreedySearch
from seq2seq.search.sampling import Sampling
from seq2seq.search.strategy import SearchStrategy

STRATEGIES = (GreedySearch, BeamSearch, Sampling)


def make_strategy(config: SearchConfig, seed_generator=None) -> SearchStrategy:
    """The strategy object `config` names; `seed_generator` feeds sampling's draws."""
    if config.sample:
        return Sampling(config.temperature, config.top_k, config.top_p, seed_generator)
    if config.beam > 1:
        return BeamSearch(
            config.beam,
            config.nbest,
            config.length_penalty,
            config.min_length,
            config.no_repeat_ngram,
            config.coverage_penalty,
        )
    return GreedySearch()
