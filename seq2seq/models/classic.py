"""The classic recipe's `decode_sequence` loop over `encoder_model` and `decoder_model`.

Kept as the reference that the fast search is checked against (tests, benchmarks, the
tutorial): it calls `predict` once per output token, one sentence at a time, so it is slow.
"""

from __future__ import annotations

import numpy as np


def decode_sequence(model, text: str, max_length: int) -> str:
    """Encode once, then call the decoder model one token at a time, as the classic example does."""
    source = np.array([model.source_vocab.encode(text) or [0]], dtype="int32")  # an empty text: one padding step
    encoded = model.encoder_model.predict(source, verbose=0)
    encoded = encoded if isinstance(encoded, list) else [encoded]
    count = len(model.state_names)
    states, memory = encoded[:count], encoded[count:]  # memory: encoder outputs and mask, with attention
    token = np.array([[model.target_vocab.start_id]], dtype="int32")
    decoded = []
    for _ in range(max_length):
        outputs = model.decoder_model.predict([token] + states + memory, verbose=0)
        probabilities, states = outputs[0], outputs[1 : 1 + count]
        best = int(np.argmax(probabilities[0, -1]))
        if best == model.target_vocab.end_id:
            break
        decoded.append(best)
        token = np.array([[best]], dtype="int32")
    return model.target_vocab.decode(decoded)
