"""The translation methods that any object with the step interface gets from `Translating`, tested on a stub."""

from __future__ import annotations

import keras
from keras import ops

from seq2seq.data.tokenizers import tokenizer_from_config
from seq2seq.data.vocabulary import Vocabulary
from seq2seq.translation.translating import Translating
from seq2seq.translation.translator import Translator

VOCABULARY = Vocabulary.build(["abcx"], tokenizer_from_config({"name": "char", "lowercase": False}))
X = VOCABULARY.token_to_id["x"]


class Counting(Translating, keras.layers.Layer):
    """A toy translator with no model and no weights: each text becomes one `x` per source token.

    Its one state is the number of `x` still to write; each step is sure of its next token. It
    is a Keras layer only because the `Translator` looks for recurrent cells in what it searches
    (to turn their dropout off); it has none.
    """

    source_vocab = target_vocab = VOCABULARY
    has_attention = False

    def search_start(self, source_ids, beam: int = 1):
        return [ops.sum(ops.cast(ops.not_equal(source_ids, 0), "float32"), axis=1, keepdims=True)], None

    def search_step(self, token_ids, states, prepared_memory=None):
        (left,) = states
        following = ops.where(left[:, 0] > 0, X, VOCABULARY.end_id)
        log_probs = ops.log_softmax(20.0 * ops.one_hot(following, len(VOCABULARY)), axis=-1)
        return log_probs, [left - 1.0]


def test_an_object_with_the_step_interface_translates_without_a_model():
    assert Counting().translate(["ab", "cab", "", "abcab"]) == ["xx", "xxx", "", "xxxxx"]


def test_the_best_of_the_nbest_is_the_translation_and_scores_come_best_first():
    counting = Counting()
    nbest = counting.translate_nbest(["ab", "c"], beam=3, nbest=2)
    assert [hypotheses[0].text for hypotheses in nbest] == counting.translate(["ab", "c"], beam=3)
    assert all(first.score > second.score for first, second in nbest)


def test_the_translator_is_built_once_and_anew_after_it_is_forgotten():
    counting = Counting()
    first = counting.translator
    assert isinstance(first, Translator) and counting.translator is first and first.model is counting
    counting.forget_translator()
    assert counting.translator is not first
