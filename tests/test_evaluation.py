"""Scores agree with sacrebleu run directly; several references per source are all used."""

from __future__ import annotations

import sacrebleu

from seq2seq.evaluation import group_references, reference_streams, score_translations


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
