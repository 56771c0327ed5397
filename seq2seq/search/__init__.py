"""Search strategies over a step callable `step(tokens, states) -> (log_probs, states)`."""

from seq2seq.search.greedy import GreedySearch

__all__ = ["GreedySearch"]
