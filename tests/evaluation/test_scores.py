"""Scores agree with sacrebleu run directly; several references per source are all used."""

from __future__ import annotations

import sacrebleu

from seq2seq.evaluation.scores import group_references, reference_streams, score_translations


def test_references_are_grouped_by_source_in_first_appearance_order():
    pairs = [("Go.", "Va !"), ("Hi.", "Salut !"), ("Go.", "Marche."), ("Go.", "Bouge !")]
    assert group_references(pairs) == (["Go.", "Hi."], [["Va !", "Marche.", "Bouge !"], ["Salut !"]])


def test_reference_streams_pad_missing_references_with_none():
    assert reference_streams([["a", "b"], ["c"]]) == [["a", "c"], ["b", None]]


def test_scores_equal_sacrebleu_on_the_same_hypotheses_and_references():
    hypotheses = ["Va !", "Salut toi !", "Je suis froid."]
    references = [["Marche.", "Va !"], ["Salut !"], ["J'ai froid.", "Je suis gelé."]]
    scores = score_translations(hypotheses, references)
    streams = reference_streams(references)
    assert scores["bleu"] == round(sacrebleu.corpus_bleu(hypotheses, streams).score, 2)
    assert scores["chrf"] == round(sacrebleu.corpus_chrf(hypotheses, streams).score, 2)
    assert scores["ter"] == round(sacrebleu.corpus_ter(hypotheses, streams).score, 2)
    assert scores["exact_match"] == round(1 / 3, 4)


def test_a_second_reference_raises_the_score_of_a_hypothesis_that_matches_it():
    hypothesis = ["Je ne sais pas ce que tu veux dire."]
    one = score_translations(hypothesis, [["Je ne comprends pas ce que vous dites."]])
    two = score_translations(hypothesis, [["Je ne comprends pas ce que vous dites.", hypothesis[0]]])
    assert two["bleu"] > one["bleu"] and two["exact_match"] == 1.0


def test_the_evaluate_command_agrees_with_sacrebleu_on_its_own_output(tmp_path, capsys):
    import json

    from seq2seq.cli import main
    from tests.conftest import tiny_model

    model = tiny_model(seed=21)
    path = tmp_path / "model.keras"
    model.save(path)
    test = tmp_path / "test.txt"
    test.write_text("Go.\tVa !\nHi.\tSalut !\nGo.\tBouge !\nRun!\tCours !\nGo.\tEn route !\n", encoding="utf-8")
    rows_path = tmp_path / "rows.tsv"
    assert main(["evaluate", str(path), str(test), "--json", "--output", str(rows_path), "--beam", "2"]) == 0
    scores = json.loads(capsys.readouterr().out)
    rows = [line.split("\t") for line in rows_path.read_text(encoding="utf-8").splitlines()[1:]]
    assert [row[0] for row in rows] == ["Go.", "Hi.", "Run!"]
    assert rows[0][2] == "Va ! ||| Bouge ! ||| En route !"
    hypotheses = [row[1] for row in rows]
    assert hypotheses == model.translate(["Go.", "Hi.", "Run!"], beam=2)
    streams = reference_streams([row[2].split(" ||| ") for row in rows])
    assert scores["bleu"] == round(sacrebleu.corpus_bleu(hypotheses, streams).score, 2)
    assert scores["chrf"] == round(sacrebleu.corpus_chrf(hypotheses, streams).score, 2)
    assert scores["ter"] == round(sacrebleu.corpus_ter(hypotheses, streams).score, 2)
    assert [float(row[3]) for row in rows] == [
        round(sacrebleu.sentence_chrf(h, refs).score, 2)
        for h, refs in zip(hypotheses, [r[2].split(" ||| ") for r in rows])
    ]
    assert model.evaluate_translations([("Go.", "Va !"), ("Go.", "Bouge !")])["sentences"] == 1
