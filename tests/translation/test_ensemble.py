"""Ensembles: the mean of several models' log-probabilities at every search step."""

from __future__ import annotations

import pytest
from keras import ops

from seq2seq.cli import main
from seq2seq.data.tokenizers import tokenizer_from_config
from seq2seq.data.vocabulary import Vocabulary
from seq2seq.errors import ConfigError
from seq2seq.host import to_host
from seq2seq.models.seq2seq import Seq2Seq
from seq2seq.search.config import SearchConfig
from seq2seq.translation.ensemble import Ensemble
from seq2seq.translation.translating import Translating
from tests.conftest import tiny_model

TEXTS = ["Go.", "Who are you?", "Hi.", "Run! Go."]
BONJOUR = Vocabulary.build(["Bonjour !"], tokenizer_from_config({"name": "char", "lowercase": False}))


@pytest.mark.parametrize("beam", [1, 3])
def test_one_model_given_twice_translates_as_that_model(beam):
    model = tiny_model(seed=2, embedding_dim=6, bidirectional=True, bridge="dense", attention="luong-general")
    alone = model.translate_nbest(TEXTS, beam=beam, nbest=beam)
    together = Ensemble([model, model]).translate_nbest(TEXTS, beam=beam, nbest=beam)
    assert [[h.text for h in hs] for hs in together] == [[h.text for h in hs] for hs in alone]
    assert [h.score for hs in together for h in hs] == pytest.approx([h.score for hs in alone for h in hs], abs=1e-5)


def test_models_of_different_architectures_decode_together_by_their_mean_log_probability():
    attention = tiny_model(seed=3, embedding_dim=6, bidirectional=True, bridge="dense", attention="luong-general")
    classic = tiny_model(seed=3)  # one LSTM, states passed, no attention: the same vocabularies
    ensemble = Ensemble([attention, classic])
    ((ids, _),) = ensemble.translator.search_ids(TEXTS[:1], SearchConfig())
    tokens = [int(t) for t in ids[0]]
    # Greedy: each token is the argmax of the mean of the two models' log-probabilities.

    states_a, memory_a = attention.search_start(ops.convert_to_tensor([attention.source_vocab.encode(TEXTS[0])]))
    states_c, _ = classic.search_start(ops.convert_to_tensor([classic.source_vocab.encode(TEXTS[0])]))
    token = ops.convert_to_tensor([attention.target_vocab.start_id])
    for expected in tokens:
        log_a, states_a = attention.search_step(token, states_a, memory_a)
        log_c, states_c = classic.search_step(token, states_c)
        chosen = int(to_host(ops.argmax((log_a + log_c) / 2, axis=-1))[0])
        assert chosen == expected
        if chosen == attention.target_vocab.end_id:
            break
        token = ops.convert_to_tensor([chosen])
    assert isinstance(ensemble.translate(TEXTS, beam=2)[0], str)


def test_models_with_another_target_vocabulary_are_refused_naming_the_model():
    model = tiny_model(seed=4)
    other = Seq2Seq(model.model_config, model.source_vocab, BONJOUR)
    with pytest.raises(ConfigError, match="second has a different target vocabulary from first"):
        Ensemble([model, other], names=["first", "second"])


def test_an_ensemble_has_the_translation_methods_of_a_model_and_keeps_its_translator():
    ensemble = Ensemble([tiny_model(seed=7)])
    assert isinstance(ensemble, Translating)
    assert ensemble.translator is ensemble.translator
    assert ensemble.translate(TEXTS) == ensemble.models[0].translate(TEXTS)


def test_translate_takes_several_model_files_as_an_ensemble(tmp_path, capsys):
    model = tiny_model(seed=5)
    first, second = tmp_path / "a.keras", tmp_path / "b.keras"
    model.save(first)
    model.save(second)
    assert main(["translate", str(first), str(second), *TEXTS, "--beam", "2"]) == 0
    assert capsys.readouterr().out.splitlines() == model.translate(TEXTS, beam=2)


def test_evaluate_scores_an_ensemble_given_as_several_model_files(tmp_path, capsys):
    import json

    model = tiny_model(seed=6)
    first, second = tmp_path / "a.keras", tmp_path / "b.keras"
    model.save(first)
    model.save(second)
    test = tmp_path / "test.txt"
    test.write_text("Go.\tVa !\nHi.\tSalut !\nRun!\tCours !\n", encoding="utf-8")
    assert main(["evaluate", str(first), str(test), "--json"]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert main(["evaluate", str(first), str(second), str(test), "--json", "--beam", "1"]) == 0
    assert json.loads(capsys.readouterr().out) == alone
    assert main(["evaluate", str(first), str(second), str(test), "--attention-stats"]) == 2
    assert "one model file" in capsys.readouterr().err
