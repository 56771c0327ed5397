"""Joint vocabularies and tied embeddings: one matrix for the target embedding and the output projection
(and the source embedding, with one vocabulary), kept through saving, loading, fine-tuning and export."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from seq2seq.config import ModelConfig
from seq2seq.data.vocabulary import build_vocabularies
from seq2seq.errors import ConfigError
from seq2seq.models.loading import load
from seq2seq.models.seq2seq import Seq2Seq
from tests.conftest import one_line_error

pytestmark = pytest.mark.filterwarnings("ignore::seq2seq.errors.UnknownTokensWarning")

SOURCES = ["Go.", "Hi.", "Run!", "Who are you?"]
TARGETS = ["Va !", "Salut !", "Cours !", "Qui êtes-vous ?"]
SHAPE = {"units": 7, "embedding_dim": 7, "attention": "luong-general", "bidirectional": True, "bridge": "dense"}


def tied_model(seed: int = 0, joint: bool = True, tie: bool = True, **config) -> Seq2Seq:
    model_config = ModelConfig(**{**SHAPE, **config}, joint_vocab=joint, tie_embeddings=tie)
    source, target = build_vocabularies(SOURCES, TARGETS, "char", joint=joint)
    keras.utils.set_random_seed(seed)
    model = Seq2Seq(model_config, source, target)
    matrix = model.decoder.token_input.embeddings  # sharpen the untrained output, as tests.conftest.tiny_model does
    matrix.assign(matrix * 25.0)
    return model


def test_a_joint_tied_model_reads_and_scores_tokens_with_one_matrix():
    model = tied_model()
    assert model.encoder.token_input is model.decoder.token_input
    matrices = [weight for weight in model.weights if weight.path.endswith("embeddings")]
    assert len(matrices) == 1 and matrices[0].shape == (len(model.target_vocab), SHAPE["embedding_dim"])


@pytest.mark.parametrize("joint", [True, False], ids=["joint", "separate"])
def test_tying_saves_the_output_kernel_and_with_one_vocabulary_the_source_embedding(joint):
    tied, untied = tied_model(joint=joint), tied_model(joint=joint, tie=False)
    vocab, width = len(tied.target_vocab), SHAPE["embedding_dim"]
    saved = vocab * width + (len(tied.source_vocab) * width if joint else 0)  # the output kernel, the source matrix
    assert untied.count_params() - tied.count_params() == saved
    assert tied.encoder.token_input is not tied.decoder.token_input or joint


def test_a_decoder_wider_than_the_embedding_maps_its_outputs_to_the_embedding_width_first():
    model = tied_model(embedding_dim=3)
    assert model.decoder.output_projection.to_embedding.kernel.shape == (SHAPE["units"], 3)
    assert len(model.translate(SOURCES)) == len(SOURCES)


def test_the_logits_follow_the_shared_matrix():
    model = tied_model()
    source = np.array([model.source_vocab.encode("Hi.")], "int32")
    target = np.array([[model.target_vocab.start_id] + model.target_vocab.encode("Salut")], "int32")
    before = keras.ops.convert_to_numpy(model({"encoder_tokens": source, "decoder_tokens": target}))
    matrix = model.decoder.token_input.embeddings
    matrix.assign(keras.ops.convert_to_numpy(matrix) * 0.5)
    after = keras.ops.convert_to_numpy(model({"encoder_tokens": source, "decoder_tokens": target}))
    assert not np.allclose(before, after)


def test_one_hot_inputs_cannot_be_tied_and_say_so_in_one_line():
    message = one_line_error(ConfigError, ModelConfig, embedding_dim=None, tie_embeddings=True)
    assert "tie_embeddings" in message and "embedding_dim" in message


def test_a_joint_model_refuses_two_different_vocabularies():
    source, target = build_vocabularies(SOURCES, TARGETS, "char")
    message = one_line_error(ConfigError, Seq2Seq, ModelConfig(**SHAPE, joint_vocab=True), source, target)
    assert "joint_vocab" in message and "joint=True" in message


def test_one_training_step_moves_the_shared_matrix_and_it_stays_shared():
    model = tied_model()
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0))
    source = np.array([model.source_vocab.encode(text) + [0] * 3 for text in SOURCES[:2]], "int32")[:, :3]
    target = np.array([[model.target_vocab.start_id] + model.target_vocab.encode("Va")] * 2, "int32")
    before = keras.ops.convert_to_numpy(model.decoder.token_input.embeddings).copy()
    model.train_on_batch({"encoder_tokens": source, "decoder_tokens": target}, target)
    assert not np.allclose(before, keras.ops.convert_to_numpy(model.encoder.token_input.embeddings))
    assert model.encoder.token_input is model.decoder.token_input


def test_a_tied_model_loads_in_a_new_process_and_translates_the_same(tmp_path):
    model = tied_model(seed=3)
    path = tmp_path / "tied.keras"
    model.save(path)
    script = (
        "import json, sys\nfrom seq2seq.models.loading import load\n"
        f"model = load({str(path)!r})\n"
        "shared = model.encoder.token_input is model.decoder.token_input\n"
        f"print(json.dumps([shared, model.count_params(), model.translate({SOURCES!r}, beam=3)]))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    shared, parameters, translations = json.loads(run.stdout.strip().splitlines()[-1])
    assert (shared, parameters, translations) == (True, model.count_params(), model.translate(SOURCES, beam=3))


def test_fine_tuning_keeps_the_joint_vocabulary_and_the_tied_matrix():
    from seq2seq.training.finetuning import copy_model

    model = tied_model(seed=4)
    copy = copy_model(model, {})
    assert copy.model_config == model.model_config and copy.encoder.token_input is copy.decoder.token_input
    assert len(copy.weights) == len(model.weights)
    assert all(np.array_equal(mine, base) for mine, base in zip(copy.get_weights(), model.get_weights()))


@pytest.mark.slow
@pytest.mark.parametrize(
    "format",
    [
        "saved_model",
        pytest.param(
            "onnx",
            marks=pytest.mark.skipif(not importlib.util.find_spec("tf2onnx"), reason="needs the export extra"),
        ),
    ],
)
def test_an_exported_tied_model_translates_like_the_keras_model(format, tmp_path):
    from seq2seq.export.exporter import export_model
    from seq2seq.export.translator import ExportedTranslator

    model = tied_model(seed=5)
    exported = ExportedTranslator(export_model(model, tmp_path / format, format))
    assert exported.translate(SOURCES) == model.translate(SOURCES)
    beams = [[hypothesis.text for hypothesis in row] for row in exported.translate_nbest(SOURCES, beam=3, nbest=2)]
    assert beams == [[hypothesis.text for hypothesis in row] for row in model.translate_nbest(SOURCES, beam=3, nbest=2)]


def test_model_files_written_before_tying_still_load_untied():
    model = load(__import__("pathlib").Path(__file__).parent / "data" / "written-before-objects-moved.keras")
    assert not model.model_config.tie_embeddings and not model.model_config.joint_vocab
    assert model.decoder.output_projection.kernel is not None
