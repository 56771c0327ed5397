"""Search strategies over a step callable `step(tokens, states) -> (log_probs, states)`.

Each strategy returns `(ids (batch, n, length), scores (batch, n))` and says how many rows of
the step function it runs per sentence (`expansion`). The names below import lazily, so reading
a `SearchConfig` loads no Keras.
"""

from seq2seq import lazy_attributes

_NAMES = {
    "BeamSearch": "seq2seq.search.beam",
    "GreedySearch": "seq2seq.search.greedy",
    "Sampling": "seq2seq.search.sampling",
    "SearchConfig": "seq2seq.search.config",
}


def make_strategy(config, seed_generator=None):
    """The strategy object a `SearchConfig` names."""
    from seq2seq.search.beam import BeamSearch
    from seq2seq.search.greedy import GreedySearch
    from seq2seq.search.sampling import Sampling

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


__getattr__ = lazy_attributes(__name__, _NAMES)


__all__ = ["BeamSearch", "GreedySearch", "Sampling", "SearchConfig", "make_strategy"]
