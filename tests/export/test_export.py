"""Exported models translate like the Keras model, with TensorFlow alone or onnxruntime alone."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from seq2seq.cli import main
from seq2seq.export.exporter import MANIFEST, export_model
from seq2seq.export.translator import ExportedTranslator
from tests.conftest import tiny_model

pytestmark = pytest.mark.filterwarnings(
    "ignore::seq2seq.errors.UnknownTokensWarning"
)  # ',' and 'w' are unknown on purpose

SOURCES = ["Go.", "Who are you?", "Hi.", "Run! Run!", "Go?", "Who?", "Hi, who are you?"]
ARCHITECTURES = {
    "lstm": {},
    "gru-stacked": {"cell": "gru", "layers": 2, "embedding_dim": 4},
    # the default preset's shape, small, with its dropout (drawing masks once broke the ONNX graph)
    "bi-lstm-luong": {
        "bidirectional": True,
        "bridge": "dense",
        "attention": "luong-general",
        "embedding_dim": 3,
        "dropout": 0.1,
    },
    "gru-bahdanau": {"cell": "gru", "bridge": "mean", "attention": "bahdanau"},
}
FORMATS = [
    "saved_model",
    pytest.param(
        "onnx",
        marks=pytest.mark.skipif(
            not __import__("importlib").util.find_spec("tf2onnx"), reason="tf2onnx is not installed (the export extra)"
        ),
    ),
]


@pytest.fixture(scope="module", params=list(ARCHITECTURES))
def model(request):
    return tiny_model(seed=11, **ARCHITECTURES[request.param])


@pytest.fixture(scope="module", params=FORMATS)
def exported(request, model, tmp_path_factory):
    return export_model(model, tmp_path_factory.mktemp("exported") / request.param, request.param)


def test_the_exported_model_gives_the_keras_greedy_translations(model, exported):
    assert ExportedTranslator(exported).translate(SOURCES) == model.translate(SOURCES)
    assert ExportedTranslator(exported).translate(SOURCES, max_length=3) == model.translate(SOURCES, max_length=3)


def test_batches_of_sentences_of_about_equal_length_give_the_same_translations(model, exported):
    texts = [text + " " + other for text in SOURCES for other in SOURCES[:3]]  # many lengths
    assert ExportedTranslator(exported).translate(texts, batch_size=4) == model.translate(texts)


def test_seq2seq_translate_runs_an_exported_directory(capsys, model, exported):
    assert main(["translate", str(exported), *SOURCES, "--batch-size", "3"]) == 0
    assert capsys.readouterr().out.splitlines() == model.translate(SOURCES)


def test_seq2seq_translate_runs_beam_search_with_n_best_lists_on_an_exported_directory(capsys, model, exported):
    assert main(["translate", str(exported), *SOURCES, "--beam", "5", "--nbest", "3", "--scores"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    expected = model.translate_nbest(SOURCES, beam=5, nbest=3)
    assert [(int(index), text) for index, _, text in rows] == [
        (index, hypothesis.text) for index, hypotheses in enumerate(expected) for hypothesis in hypotheses
    ]
    scores = [hypothesis.score for hypotheses in expected for hypothesis in hypotheses]
    assert all(abs(float(score) - expected) < 2e-4 for (_, score, _), expected in zip(rows, scores))


def test_the_manifest_names_the_graph_inputs_and_holds_the_vocabularies(model, exported):
    manifest = json.loads((exported / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["decoder_inputs"] == [t.name for t in model.decoder_model.inputs]
    assert manifest["source_vocab"]["tokens"] == model.source_vocab.tokens
    assert manifest["target_vocab"]["tokenizer"] == model.target_vocab.tokenizer.get_config()


RUN_WITH_MODULES_BLOCKED = """
import json, sys

for name in sys.argv[3].split(","):
    sys.modules[name] = None  # as if not installed: importing it fails, find_spec finds nothing
from seq2seq.export.translator import ExportedTranslator
print(json.dumps(ExportedTranslator(sys.argv[1]).translate(json.loads(sys.argv[2]))))
"""


@pytest.mark.parametrize("format, blocked", [("saved_model", ["keras"]), ("onnx", ["keras", "tensorflow"])])
def test_the_runner_works_with_keras_unimportable_and_onnx_without_tensorflow(tmp_path, format, blocked):
    if format == "onnx":
        pytest.importorskip("onnxruntime")
        pytest.importorskip("tf2onnx")
    model = tiny_model(seed=3, attention="luong-general", embedding_dim=3)
    out = export_model(model, tmp_path / format, format)
    result = subprocess.run(
        [sys.executable, "-c", RUN_WITH_MODULES_BLOCKED, str(out), json.dumps(SOURCES), ",".join(blocked)],
        capture_output=True,
        text=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == model.translate(SOURCES)


def test_the_export_command_writes_a_directory_the_runner_reads(capsys, tmp_path):
    model = tiny_model(seed=4)
    path = tmp_path / "model.keras"
    model.save(path)
    assert main(["export", str(path), str(tmp_path / "out"), "--format", "saved_model"]) == 0
    assert f"Translate with: seq2seq translate {tmp_path / 'out'}" in capsys.readouterr().out
    assert ExportedTranslator(tmp_path / "out").translate(["Go."]) == model.translate(["Go."])

    for argv, expected in [
        (["export", str(path), str(tmp_path / "out")], "already exists and is not an empty directory"),
        (["export", str(path), str(tmp_path / "new"), "--format", "tflite"], "invalid choice: 'tflite'"),
        (["export", str(tmp_path / "absent.keras"), str(tmp_path / "new")], "no such model file"),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err, err


CLI_WITH_MODULES_BLOCKED = """
import sys

for name in sys.argv[1].split(","):
    sys.modules[name] = None  # as if not installed
from seq2seq.cli import main
sys.exit(main(["translate", *sys.argv[2:]]))
"""


def test_seq2seq_translate_on_an_onnx_export_needs_neither_keras_nor_tensorflow(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    model = tiny_model(seed=3, attention="luong-general", embedding_dim=3)
    out = export_model(model, tmp_path / "onnx", "onnx")
    result = subprocess.run(
        [sys.executable, "-c", CLI_WITH_MODULES_BLOCKED, "keras,tensorflow", str(out), *SOURCES],
        capture_output=True,
        text=True,
        env={"PATH": ""},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == model.translate(SOURCES)


def test_an_exported_directory_refuses_what_only_the_keras_model_does(capsys, tmp_path):
    model = tiny_model(seed=4)
    out = export_model(model, tmp_path / "saved", "saved_model")
    for options in (["--sample"], ["--beam", "3", "--no-repeat-ngram", "2"], ["--precision", "bfloat16"]):
        assert main(["translate", str(out), "Go.", *options]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "searches greedily or by beam" in err and "give the .keras file" in err
    assert main(["translate", str(tmp_path), "Go."]) == 2
    assert "is a directory but not one written by seq2seq export" in capsys.readouterr().err
