"""The step interface a search needs: a model and an ensemble both offer it; the translator needs no more."""

from __future__ import annotations

import ast
from pathlib import Path

from seq2seq.translation.ensemble import Ensemble
from seq2seq.translation.steps import StepModel
from tests.conftest import tiny_model

TRANSLATOR = Path(__file__).resolve().parents[2] / "seq2seq" / "translation" / "translator.py"


def test_a_model_and_an_ensemble_offer_the_step_interface_and_other_objects_do_not():
    model = tiny_model(seed=19, attention="luong-dot")
    assert isinstance(model, StepModel)
    assert isinstance(Ensemble([model, tiny_model(seed=20)]), StepModel)
    assert not isinstance(model.source_vocab, StepModel)


def test_an_ensemble_translates_through_the_interface_as_its_one_model_does():
    model = tiny_model(seed=21, attention="bahdanau")
    texts = ["Go.", "Who are you?"]
    assert Ensemble([model]).translate(texts, beam=2) == model.translate(texts, beam=2)


def test_the_translator_imports_nothing_from_the_models_package():
    tree = ast.parse(TRANSLATOR.read_text(encoding="utf-8"))
    imported = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    assert imported and not [name for name in imported if name.startswith("seq2seq.models")]
