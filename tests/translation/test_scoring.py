"""Scoring given pairs: the training graph's likelihood, and the very scores the searches report for their outputs."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from seq2seq.data.batching import teacher_forcing_arrays
from seq2seq.errors import ConfigError, UnknownTokensError, UnknownTokensWarning
from seq2seq.host import to_host
from seq2seq.search.config import SearchConfig
from seq2seq.translation.ensemble import Ensemble
from seq2seq.translation.scoring import Scorer, score_pairs
from tests.conftest import one_line_error, tiny_model

PAIRS = [("Go.", "Va !"), ("Who are you?", "Qui êtes-vous ?"), ("Hi.", "Salut !"), ("Run!", ""), ("Go? Hi.", "Cours")]
ATTENTION = {"bidirectional": True, "bridge": "dense", "attention": "luong-general", "embedding_dim": 3}


@pytest.fixture(scope="module", params=[{}, ATTENTION], ids=["classic", "bi-luong"])
def tiny(request):
    return tiny_model(seed=4, **request.param)


def test_a_score_is_the_training_graphs_log_likelihood_of_the_target_and_its_end(tiny):
    inputs, targets = teacher_forcing_arrays(PAIRS, tiny.source_vocab, tiny.target_vocab)
    log_probs = to_host(ops.log_softmax(tiny(inputs, training=False), axis=-1))
    gained = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0] * (targets > 0)
    scores = score_pairs(tiny, PAIRS)
    assert [score.total for score in scores] == pytest.approx(list(gained.sum(axis=1)), abs=1e-4)
    assert [score.tokens for score in scores] == [len(tiny.target_vocab.encode(target)) + 1 for _, target in PAIRS]
    assert [score.per_token for score in scores] == pytest.approx([s.total / s.tokens for s in scores])
    assert scores[3].tokens == 1  # an empty target: only the end is scored


def test_scores_do_not_depend_on_the_batch_or_the_order_of_the_pairs(tiny):
    together = score_pairs(tiny, PAIRS)
    reversed_in_twos = score_pairs(tiny, PAIRS[::-1], batch_size=2)[::-1]
    assert [s.total for s in reversed_in_twos] == pytest.approx([s.total for s in together], abs=1e-5)


def test_normalised_scores_follow_the_searchs_length_penalty_and_greedy_reports_the_sum(tiny):
    plain = score_pairs(tiny, PAIRS, SearchConfig(length_penalty=0.6))
    assert [s.normalised for s in plain] == [s.total for s in plain]
    beam = score_pairs(tiny, PAIRS, beam=3, length_penalty=0.6)
    expected = [s.total / ((5 + s.tokens) / 6) ** 0.6 for s in plain]
    assert [s.normalised for s in beam] == pytest.approx(expected, abs=1e-4)


def test_target_tokens_outside_the_vocabulary_are_named_and_refused_in_strict_mode(tiny):
    pairs = [("Go.", "Va ¤ !")]
    with pytest.warns(UnknownTokensWarning, match=r"1 target token\(s\) .* scored as <unk>: '¤'"):
        score_pairs(tiny, pairs)
    message = one_line_error(UnknownTokensError, score_pairs, tiny, pairs, strict=True)
    assert "target token(s) are not in the model's vocabulary: '¤'" in message


def test_the_coverage_penalty_is_refused_for_a_model_without_attention():
    message = one_line_error(ConfigError, score_pairs, tiny_model(seed=2), PAIRS, beam=2, coverage_penalty=0.2)
    assert "the coverage penalty needs attention models" in message


def test_a_single_text_instead_of_pairs_is_refused(tiny):
    with pytest.raises(TypeError, match="list of \\(source, target\\) pairs"):
        score_pairs(tiny, "Go.\tVa !")


# -- equality with the searches, on a small model trained on real sentences ----------------------


@pytest.fixture(scope="module")
def corpus(tatoeba_path):
    from seq2seq.data.corpus import read_tatoeba

    pairs = read_tatoeba(tatoeba_path, limit=1100).pairs
    return pairs[:1000], sorted({source for source, _ in pairs[1000:]})[:20]


@pytest.fixture(scope="module")
def trained(corpus):
    from seq2seq.config import ModelConfig, TrainConfig
    from seq2seq.training.fit import train

    config = ModelConfig(tokenizer="word", attention="luong-general", units=24, embedding_dim=16)
    settings = TrainConfig(epochs=4, batch_size=16, learning_rate=0.01, lr_schedule="constant", seed=5, verbose=0)
    return train(corpus[0], config, settings)


def searched(model, sentences, search: SearchConfig):
    """Per hypothesis that ended: `(source, source ids, output ids before the end, reported score)`.

    Greedy search's output cut at its length limit has no end, and its score no end's probability.
    """
    end, found = model.target_vocab.end_id, []
    for sentence, (rows, scores) in zip(sentences, model.translator.search_ids(sentences, search)):
        for row, score in zip(rows.tolist(), scores):
            if score > -1e8 and end in row:
                found.append((sentence, model.source_vocab.encode(sentence), row[: row.index(end)], float(score)))
    return found


def assert_scores_are_the_reported_ones(model, sentences, search: SearchConfig) -> list:
    """Every output's ids, and every output whose text reads back as the same ids, score as the search reported."""
    found = searched(model, sentences, search)
    assert 2 * len(found) >= len(sentences) * search.nbest  # most outputs end before their length limit
    by_ids = Scorer(model).score_ids([ids for _, ids, _, _ in found], [output for *_, output, _ in found], search)
    assert [s.normalised for s in by_ids] == pytest.approx([score for *_, score in found], abs=1e-4)
    vocab = model.target_vocab
    readable = [
        (source, vocab.decode(output), score)
        for source, _, output, score in found
        if vocab.encode(vocab.decode(output)) == output
    ]
    # Where the output's ids are not the tokenizer's own reading of its text ("<unk>", a joined piece
    # first such as "￭."), the text stands for other ids; how many are depends on the backend's training.
    assert len(readable) >= 3
    by_text = score_pairs(model, [(source, text) for source, text, _ in readable], search)
    assert [s.normalised for s in by_text] == pytest.approx([score for *_, score in readable], abs=1e-4)
    return found


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::seq2seq.errors.UnknownTokensWarning")
@pytest.mark.parametrize(
    "search",
    [
        SearchConfig(),
        SearchConfig(beam=5, nbest=5),
        SearchConfig(beam=5, nbest=5, length_penalty=0.6),
        SearchConfig(beam=4, nbest=3, length_penalty=0.2, coverage_penalty=0.3),
    ],
    ids=["greedy", "beam", "beam-alpha", "beam-coverage"],
)
def test_the_score_of_a_search_output_is_the_score_the_search_reported(trained, corpus, search):
    assert_scores_are_the_reported_ones(trained, corpus[1], search)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::seq2seq.errors.UnknownTokensWarning")
def test_an_ensembles_scores_are_those_its_averaged_search_reports(trained, corpus, tmp_path):
    from seq2seq.models.loading import load

    trained.save(tmp_path / "twin.keras")
    twin = load(tmp_path / "twin.keras")
    kernel = twin.decoder.output_projection.kernel
    kernel.assign(kernel * 1.5)
    search = SearchConfig(beam=3, nbest=2, length_penalty=0.6)
    found = assert_scores_are_the_reported_ones(Ensemble([trained, twin]), corpus[1], search)
    alone = Scorer(trained).score_ids([ids for _, ids, _, _ in found], [output for *_, output, _ in found], search)
    assert max(abs(s.normalised - score) for s, (*_, score) in zip(alone, found)) > 1e-2
