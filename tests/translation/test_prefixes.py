"""Target prefixes: read and checked as target ids, forced first by every search, and scored as `score` scores."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from seq2seq.data.batching import pad_batch
from seq2seq.data.tokenizers import tokenizer_from_config
from seq2seq.data.vocabulary import Vocabulary
from seq2seq.host import to_host
from seq2seq.search.config import SearchConfig
from seq2seq.translation.ensemble import Ensemble
from seq2seq.translation.prefixes import (
    PrefixError,
    continuation,
    encode_prefixes,
    forced_ids,
    split_prefix_column,
)
from seq2seq.translation.scoring import Scorer
from tests.conftest import one_line_error, tiny_model

SOURCES = ["Go.", "Who are you?", "Hi.", "Run!", "Go? Hi."]
PREFIXES = ["Sa", "", "Qui ê", None, "C"]
ATTENTION = {"bidirectional": True, "bridge": "dense", "attention": "luong-general", "embedding_dim": 3}
WORDS = Vocabulary.build(["va vite", "cours"], tokenizer_from_config({"name": "space", "lowercase": False}))


@pytest.fixture(scope="module", params=[{}, ATTENTION], ids=["classic", "bi-luong"])
def tiny(request):
    return tiny_model(seed=7, **request.param)


# -- reading and checking prefixes ---------------------------------------------------------------


def test_one_prefix_text_serves_every_input_and_none_or_empty_means_no_prefix():
    ids = WORDS.token_to_id
    assert encode_prefixes(WORDS, "va vite", 3) == [[ids["va"], ids["vite"]]] * 3
    assert encode_prefixes(WORDS, ["cours", None, ""], 3) == [[ids["cours"]], [], []]


def test_a_prefix_token_the_target_vocabulary_lacks_is_named_with_where_it_came_from():
    message = one_line_error(PrefixError, encode_prefixes, WORDS, ["cours", "va lentement"], 2)
    assert message.startswith("prefixes[1]: the prefix has token(s) the model's target vocabulary lacks: 'lentement'")
    names = ["standard input, line 4", "standard input, line 9"]
    message = one_line_error(PrefixError, encode_prefixes, WORDS, ["cours", "zut va"], 2, names=names)
    assert message.startswith("standard input, line 9:") and "'zut'" in message


def test_a_special_token_in_a_prefix_is_refused_rather_than_forced():
    message = one_line_error(PrefixError, encode_prefixes, WORDS, "va </s> vite", 1)
    assert "special token(s) '</s>'" in message


def test_a_prefix_that_leaves_no_room_within_max_length_is_refused():
    assert len(encode_prefixes(WORDS, "va vite cours", 1, max_length=4)[0]) == 3  # fits: room for the end
    message = one_line_error(PrefixError, encode_prefixes, WORDS, ["va", "va vite cours"], 2, max_length=3)
    assert "prefixes[1]: the prefix has 3 target tokens, but max_length is 3 and counts the prefix" in message


def test_a_list_of_prefixes_must_hold_one_per_text():
    message = one_line_error(PrefixError, encode_prefixes, WORDS, ["va", "cours"], 3)
    assert "prefixes holds 2 entries for 3 texts" in message
    with pytest.raises(TypeError, match=r"prefixes\[0\] must be a text or None, got int"):
        encode_prefixes(WORDS, [3], 1)


def test_prefix_column_lines_split_at_their_tab_a_line_without_one_has_no_prefix_and_two_tabs_are_refused():
    lines = ["Go.\tVa", "Hi.", "Run!\t"]
    assert split_prefix_column(lines, ["a", "b", "c"]) == (["Go.", "Hi.", "Run!"], ["Va", "", ""])
    message = one_line_error(PrefixError, split_prefix_column, ["Go.\tVa", "a\tb\tc"], ["line 1", "line 2"])
    assert message.startswith("line 2: 2 tabs, but a line is source<TAB>prefix with one tab")


def test_forced_ids_hold_each_prefix_from_the_left_and_leave_other_rows_free():
    forced = forced_ids([[7, 5], [], [9]], rows=4, width=5)
    assert forced.dtype == np.int32 and forced.tolist() == [[7, 5, 0, 0, 0], [0] * 5, [9, 0, 0, 0, 0], [0] * 5]


def test_the_continuation_is_what_follows_the_prefix_as_the_tokenizer_writes_it():
    words = Vocabulary.build(["Va-t'en vite !"], tokenizer_from_config({"name": "word", "lowercase": True}))
    assert continuation(words, "VA-T'", "va-t'en vite !") == "en vite !"
    assert continuation(words, "va", "cours !") == "cours !"  # not its prefix: the whole output


# -- searching from a prefix on a tiny model ------------------------------------------------------


def starts(model, search: SearchConfig, prefixes=PREFIXES):
    """Per text: its prefix's ids and the ids of every hypothesis found."""
    found = model.translator.search_ids(SOURCES, search, prefixes=prefixes)
    expected = encode_prefixes(model.target_vocab, prefixes, len(SOURCES))
    return expected, [[row.tolist() for row, score in zip(ids, scores) if score > -1e8] for ids, scores in found]


@pytest.mark.parametrize(
    "search",
    [SearchConfig(), SearchConfig(beam=3, nbest=3, length_penalty=0.6), SearchConfig(sample=True, seed=3)],
    ids=["greedy", "beam-nbest", "sampling"],
)
def test_every_hypothesis_of_every_search_starts_with_its_prefix(tiny, search):
    if search.sample and keras.backend.backend() == "jax":
        pytest.skip("sampling needs TensorFlow or PyTorch")
    expected, found = starts(tiny, search)
    assert all(len(rows) == search.nbest for rows in found)
    for prefix, rows in zip(expected, found):
        assert all(row[: len(prefix)] == prefix for row in rows)
    texts = tiny.translate(SOURCES, search, prefixes=PREFIXES)
    assert texts[0].startswith("Sa") and texts[2].startswith("Qui ê") and texts[4].startswith("C")


def test_texts_without_a_prefix_translate_as_they_would_with_no_prefixes_at_all(tiny):
    for search in (SearchConfig(), SearchConfig(beam=3, nbest=2)):
        plain = tiny.translate_nbest(SOURCES, search)
        mixed = tiny.translate_nbest(SOURCES, search, prefixes=PREFIXES)
        for index in (1, 3):  # "" and None
            assert [h.text for h in mixed[index]] == [h.text for h in plain[index]]
            assert [h.score for h in mixed[index]] == pytest.approx([h.score for h in plain[index]], abs=1e-5)


def test_a_prefixed_text_gets_the_same_output_alone_and_in_any_batch(tiny):
    search = SearchConfig(beam=3, nbest=2)
    together = tiny.translate_nbest(SOURCES, search, prefixes=PREFIXES)
    alone = [tiny.translate_nbest([source], search, prefixes=[prefix])[0] for source, prefix in zip(SOURCES, PREFIXES)]
    in_twos = tiny.translate_nbest(SOURCES, search.replace(batch_size=2), prefixes=PREFIXES)
    for result in (alone, in_twos):
        assert [[h.text for h in found] for found in result] == [[h.text for h in found] for found in together]


@pytest.mark.parametrize(
    "search",
    [SearchConfig(), SearchConfig(beam=4, nbest=3, length_penalty=0.6)],
    ids=["greedy", "beam-alpha"],
)
def test_the_reported_score_counts_the_prefix_and_is_what_score_gives_the_whole_output(tiny, search):
    ended, cut = scored_as_reported(tiny, search, SOURCES, PREFIXES)
    if search.beam > 1:
        assert len(ended) >= 2 * len(SOURCES) and not cut
        return
    # An untrained model's greedy output is often cut at its limit, without the end that `score`
    # counts: its score is the training graph's log-probability of its tokens alone.
    assert len(ended) + len(cut) == len(SOURCES)
    if not cut:
        return
    inputs = {
        "encoder_tokens": pad_batch([tiny.source_vocab.encode(source) for source, _, _ in cut]),
        "decoder_tokens": pad_batch([[tiny.target_vocab.start_id, *ids] for _, ids, _ in cut]),
    }
    log_probs = to_host(ops.log_softmax(tiny(inputs, training=False), axis=-1))
    width = inputs["decoder_tokens"].shape[1]
    targets = pad_batch([ids for _, ids, _ in cut], length=width)  # position t of the decoder predicts token t + 1
    gained = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    sums = [gained[row, : len(ids)].sum() for row, (_, ids, _) in enumerate(cut)]
    assert sums == pytest.approx([score for *_, score in cut], abs=1e-4)


def test_the_coverage_penalty_counts_the_attention_of_the_prefix_steps_too():
    model = tiny_model(seed=7, **ATTENTION)
    search = SearchConfig(beam=3, nbest=2, length_penalty=0.2, coverage_penalty=0.3)
    ended, _ = scored_as_reported(model, search, SOURCES, PREFIXES)
    assert len(ended) >= len(SOURCES)


def searched(model, search: SearchConfig, sources, prefixes) -> list[tuple[str, list[int], float]]:
    """`(source, output ids without padding, reported score)` of every hypothesis, each checked to start with its
    prefix's ids."""
    vocab, found = model.target_vocab, []
    expected = encode_prefixes(vocab, prefixes, len(sources))
    for source, prefix, (rows, scores) in zip(
        sources, expected, model.translator.search_ids(sources, search, None, prefixes)
    ):
        for row, score in zip(rows.tolist(), scores):
            if score > -1e8:
                assert row[: len(prefix)] == prefix
                found.append((source, [i for i in row if i], float(score)))
    return found


def scored_as_reported(model, search: SearchConfig, sources, prefixes) -> tuple[list, list]:
    """Search from the prefixes and check that every output that ended scores as the search reported it.

    Each output's ids are scored as they are; those whose text reads back as the same ids (no
    `<unk>`, no piece the tokenizer would read otherwise) are scored from their text by
    `model.score` too. Returns the outputs that ended and those cut at their limit (greedy
    search's have no end, so their score lacks the end's probability that scoring counts).
    """
    vocab = model.target_vocab
    found = searched(model, search, sources, prefixes)
    ended = [(source, ids[: ids.index(vocab.end_id)], score) for source, ids, score in found if vocab.end_id in ids]
    by_ids = Scorer(model).score_ids(
        [model.source_vocab.encode(source) for source, _, _ in ended], [i for _, i, _ in ended], search
    )
    assert [s.normalised for s in by_ids] == pytest.approx([score for *_, score in ended], abs=1e-4)
    readable = [
        (source, vocab.decode(ids), score) for source, ids, score in ended if vocab.encode(vocab.decode(ids)) == ids
    ]
    by_text = model.score([(source, text) for source, text, _ in readable], search) if readable else []
    assert [s.normalised for s in by_text] == pytest.approx([score for *_, score in readable], abs=1e-4)
    return ended, [(source, ids, score) for source, ids, score in found if vocab.end_id not in ids]


def test_max_length_counts_the_prefix_and_the_default_leaves_room_after_a_long_one(tiny):
    (ids, _), *_ = tiny.translator.search_ids(["Go."], SearchConfig(max_length=4), prefixes=["Sal"])
    assert ids[0, :3].tolist() == tiny.target_vocab.encode("Sal") and ids[0, 3] > 0 and not ids[0, 4:].any()
    long = "Salut ! Cours ! Qui êtes-vous ? Va !"  # more tokens than the default limit of "Go." (2 x 3 + 10)
    (text,) = tiny.translate(["Go."], prefixes=long)
    assert text.startswith(long)
    message = one_line_error(PrefixError, tiny.translate, ["Go."], prefixes=long, max_length=20)
    assert f"the prefix has {len(long)} target tokens, but max_length is 20" in message


def test_an_ensemble_continues_a_prefix_and_scores_it_as_its_search_does():
    ensemble = Ensemble([tiny_model(seed=7), tiny_model(seed=8, **ATTENTION)])
    search = SearchConfig(beam=3, nbest=2)
    assert ensemble.translate(SOURCES[2:3], search, prefixes="Qui ê")[0].startswith("Qui ê")
    ended, _ = scored_as_reported(ensemble, search, SOURCES, PREFIXES)
    assert len(ended) >= len(SOURCES)


# -- on a small model trained on real sentences ---------------------------------------------------


@pytest.fixture(scope="module")
def trained(tatoeba_path):
    from seq2seq.config import ModelConfig, TrainConfig
    from seq2seq.data.corpus import read_tatoeba
    from seq2seq.training.fit import train

    pairs = read_tatoeba(tatoeba_path, limit=700).pairs
    config = ModelConfig(tokenizer="word", attention="luong-general", units=16, embedding_dim=12)
    settings = TrainConfig(epochs=3, batch_size=16, learning_rate=0.01, lr_schedule="constant", seed=5, verbose=0)
    return train(pairs[:600], config, settings), pairs[600:]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::seq2seq.errors.UnknownTokensWarning")
@pytest.mark.parametrize(
    "search",
    [SearchConfig(), SearchConfig(beam=5, nbest=3), SearchConfig(beam=4, nbest=2, length_penalty=0.6)],
    ids=["greedy", "beam", "beam-alpha"],
)
def test_on_a_trained_model_a_prefixed_outputs_score_is_the_score_the_search_reported(trained, search):
    model, held_out = trained
    vocab = model.target_vocab
    # The first word of each held-out reference, where the model knows it: a translator's own start.
    chosen = [(source, target.split()[0]) for source, target in held_out if vocab.unk_id not in vocab.encode(target)]
    sources, prefixes = [source for source, _ in chosen[:30]], [prefix for _, prefix in chosen[:30]]
    assert len(sources) >= 10
    ended, _ = scored_as_reported(model, search, sources, prefixes)
    assert len(ended) >= 10
