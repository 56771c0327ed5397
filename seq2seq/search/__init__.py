"""Search strategies over a step callable `step(tokens, states) -> (log_probs, states)`.

Every strategy is a `SearchStrategy` (`begin`, `advance`, `result`, `get_config`) that returns
`(ids (batch, n, length), scores (batch, n))` and says how many rows of the step function it
runs per sentence (`beam`). The names below import lazily, so reading a `SearchConfig`
loads no Keras.
"""

from seq2seq import lazy_attributes

_NAMES = {
    "IMPOSSIBLE": "seq2seq.search.strategy",
    "BeamSearch": "seq2seq.search.beam",
    "GreedySearch": "seq2seq.search.greedy",
    "Sampling": "seq2seq.search.sampling",
    "SearchConfig": "seq2seq.search.config",
    "SearchState": "seq2seq.search.state",
    "SearchStrategy": "seq2seq.search.strategy",
    "make_strategy": "seq2seq.search.factory",
}

__getattr__ = lazy_attributes(__name__, _NAMES)

__all__ = list(_NAMES)
