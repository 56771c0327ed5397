"""`build_vocabularies`: each side its own vocabulary, or one joint vocabulary that numbers both sides alike."""

from __future__ import annotations

import pytest

from seq2seq.data.corpus import read_tatoeba
from seq2seq.data.vocabulary import Vocabulary, build_vocabularies

SOURCES = ["Go now.", "Who are you?", "Run, Tom!"]
TARGETS = ["Va maintenant.", "Qui es-tu ?", "Cours, Tom !"]


@pytest.mark.parametrize("tokenizer", ["char", "word", "space"])
def test_a_joint_vocabulary_is_one_table_of_the_tokens_of_both_sides(tokenizer):
    source, target = build_vocabularies(SOURCES, TARGETS, tokenizer, joint=True)
    separate_source, separate_target = build_vocabularies(SOURCES, TARGETS, tokenizer)
    assert source is target
    assert set(source.tokens) == set(separate_source.tokens) | set(separate_target.tokens)
    assert separate_source.tokens != separate_target.tokens


def test_separate_vocabularies_read_a_token_of_the_other_side_as_unknown_and_a_joint_one_does_not():
    separate_source, _ = build_vocabularies(SOURCES, TARGETS, "word")
    joint, _ = build_vocabularies(SOURCES, TARGETS, "word", joint=True)
    assert separate_source.encode("Cours") == [Vocabulary.unk_id]
    assert joint.encode("Cours") != [Vocabulary.unk_id]


def test_the_size_limit_keeps_the_most_frequent_tokens_of_both_sides_counted_together():
    source, _ = build_vocabularies(["a b", "b"], ["c b", "c"], "word", size=2, joint=True)
    assert source.tokens[len(source.tokens) - 2 :] == ["b", "c"]  # b: 3 times, c: 2, a: once


def test_a_joint_subword_vocabulary_is_one_sentencepiece_model_whose_ids_survive_a_round_trip(tatoeba_path):
    pairs = read_tatoeba(tatoeba_path, limit=400).pairs
    sources, targets = [source for source, _ in pairs], [target for _, target in pairs]
    source, target = build_vocabularies(sources, targets, "subword", size=97, joint=True)
    assert source is target and source.tokenizer.name == "subword"
    restored = Vocabulary.from_config(source.get_config())
    for text in ["Tom is here.", "Tom est là."]:
        assert restored.encode(text) == source.encode(text)
        assert Vocabulary.unk_id not in source.encode(text)
    separate_source, separate_target = build_vocabularies(sources, targets, "subword", size=97)
    assert separate_source.tokenizer.model_proto != separate_target.tokenizer.model_proto
