"""A damaged, altered or foreign export directory is refused in one line naming the file, before any graph runs."""

from __future__ import annotations

import json
import shutil

import pytest

from seq2seq.cli import main
from seq2seq.export.checksums import CHECKSUMS, write_checksums
from seq2seq.export.exporter import MANIFEST, export_model
from seq2seq.export.manifest import ExportedModelError
from seq2seq.export.translator import ExportedTranslator
from tests.conftest import one_line_error, tiny_model

pytest.importorskip("onnxruntime")
pytest.importorskip("tf2onnx")
pytestmark = pytest.mark.filterwarnings("ignore::seq2seq.errors.UnknownTokensWarning")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """One tiny model exported once as ONNX; each test tampers a copy."""
    model = tiny_model(seed=5, attention="luong-general", embedding_dim=3)
    return model, export_model(model, tmp_path_factory.mktemp("export") / "onnx", "onnx")


@pytest.fixture
def copy(exported, tmp_path):
    return shutil.copytree(exported[1], tmp_path / "copy")


def edit_manifest(directory, change, checksums: bool = True) -> None:
    """Change the manifest as a careless or hostile hand would, then list the new digests (anyone can)."""
    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    change(manifest)
    (directory / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    if checksums:
        write_checksums(directory)


def refusal(directory) -> str:
    return one_line_error(ExportedModelError, ExportedTranslator, directory)


def test_an_untouched_copy_translates_like_the_model(exported, copy):
    model, _ = exported
    assert ExportedTranslator(copy).translate(["Go.", "Who?"]) == model.translate(["Go.", "Who?"])


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda m: m.update(format="tflite"), "field 'format' must be one of saved_model, onnx, got 'tflite'"),
        (lambda m: m.update(format=["onnx"]), "field 'format' must be one of"),
        (lambda m: m.update(start_id=10**30), "field 'start_id' must be a token id of the target vocabulary (0 to"),
        (lambda m: m.update(end_id=-1), "field 'end_id' must be a token id"),
        (lambda m: m.update(start_id=True), "field 'start_id' must be a token id"),
        (
            lambda m: m["state_names"].append("state_x"),
            "state name 'state_x' is not among the names in 'encoder_outputs'",
        ),
        (lambda m: m.update(encoder="/etc/passwd"), "field 'encoder' must be 'encoder.onnx' (the name seq2seq export"),
        (lambda m: m.update(decoder="../decoder.onnx"), "field 'decoder' must be 'decoder.onnx'"),
        (lambda m: m.update(format="saved_model"), "field 'encoder' must be 'encoder'"),
        (lambda m: m["target_vocab"].update(tokens=7), "field 'target_vocab' is not a vocabulary"),
        (lambda m: m.update(decoder_inputs=["decoder_tokens"]), "is not among the names in 'decoder_inputs'"),
        (lambda m: m.update(encoder_inputs=["x", "y"]), "first inputs must be 'encoder_tokens'"),
        (lambda m: m.update(search_step="../search_step.onnx"), "field 'search_step' must be 'search_step.onnx'"),
        (lambda m: m["search_step_outputs"].pop(), "fields 'search_step_inputs' and 'search_step_outputs' must run"),
    ],
    ids=[
        "unknown-format",
        "format-not-text",
        "huge-start-id",
        "negative-end-id",
        "boolean-id",
        "unknown-state-name",
        "absolute-path",
        "path-outside",
        "paths-of-another-format",
        "bad-vocabulary",
        "state-missing-from-inputs",
        "wrong-inputs",
        "search-step-outside",
        "search-step-without-its-outputs",
    ],
)
def test_a_bad_manifest_field_is_refused_in_one_line_naming_it(copy, change, expected):
    edit_manifest(copy, change)
    message = refusal(copy)
    assert message.startswith(str(copy / MANIFEST)) and expected in message, message


@pytest.mark.parametrize(
    "key",
    [
        "format",
        "encoder",
        "decoder",
        "state_names",
        "encoder_inputs",
        "encoder_outputs",
        "decoder_inputs",
        "decoder_outputs",
        "search_step_inputs",
        "search_step_outputs",
        "start_id",
        "end_id",
        "source_vocab",
        "target_vocab",
    ],
)
def test_a_missing_manifest_key_is_refused_in_one_line_naming_it(copy, key):
    edit_manifest(copy, lambda manifest: manifest.pop(key))
    assert f"field {key!r} must be" in refusal(copy)


def test_a_manifest_that_is_not_json_is_refused(copy):
    (copy / MANIFEST).write_text('{"format": "onnx", ', encoding="utf-8")
    write_checksums(copy)
    assert "seq2seq-export.json: is not valid JSON" in refusal(copy)
    (copy / MANIFEST).write_text("[1, 2]", encoding="utf-8")
    write_checksums(copy)
    assert "expected a JSON object, got list" in refusal(copy)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
@pytest.mark.parametrize("name", ["decoder.onnx", "search_step.onnx"])
def test_a_damaged_onnx_graph_is_refused_before_onnxruntime_opens_it(copy, damage, name):
    graph = copy / name
    data = graph.read_bytes()
    graph.write_bytes({"garbage": bytes(range(256)) * 40, "truncated": data[: len(data) // 2], "empty": b""}[damage])
    write_checksums(copy)
    message = refusal(copy)
    assert message.startswith(str(graph)) and "is not an ONNX model (truncated or damaged)" in message


def test_a_graph_truncated_anywhere_is_refused_in_one_line(copy):
    """Cut at many lengths, some at message boundaries that parse: each refusal is still one line.

    The file ends with its list of operator sets; a cut between two entries leaves a whole,
    valid model (without the `ai.onnx.ml` set it never uses), so the last bytes are not cut.
    """
    graph = copy / "encoder.onnx"
    data = graph.read_bytes()
    for length in range(1, len(data) - 32, max(1, len(data) // 25)):
        graph.write_bytes(data[:length])
        write_checksums(copy)
        assert str(graph) in refusal(copy)


def test_a_file_changed_after_export_is_refused_by_its_checksum(copy):
    edit_manifest(copy, lambda manifest: manifest.update(end_id=manifest["start_id"]), checksums=False)
    message = refusal(copy)
    assert message.startswith(str(copy / MANIFEST)) and f"SHA-256 differs from the one in {CHECKSUMS}" in message


def test_missing_unlisted_and_escaping_files_are_refused(copy):
    (copy / "notes.txt").write_text("mine", encoding="utf-8")
    assert "notes.txt: not written by seq2seq export (it is not in checksums.sha256)" in refusal(copy)
    (copy / "notes.txt").unlink()
    (copy / "encoder.onnx").unlink()
    assert "encoder.onnx: missing (listed in checksums.sha256)" in refusal(copy)
    (copy / CHECKSUMS).write_text(f"{'0' * 64}  ../outside.onnx\n", encoding="utf-8")
    assert "line 1: '../outside.onnx' is not a path inside the export" in refusal(copy)
    (copy / CHECKSUMS).write_text(f"{'0' * 64}  /etc/passwd\n", encoding="utf-8")
    assert "'/etc/passwd' is not a path inside the export" in refusal(copy)
    (copy / CHECKSUMS).write_text("not a digest\n", encoding="utf-8")
    assert "line 1: expected a SHA-256 in hex" in refusal(copy)
    (copy / CHECKSUMS).unlink()
    assert "checksums.sha256: missing; the export was damaged or written by an older keras-seq2seq" in refusal(copy)


def test_a_symbolic_link_out_of_the_directory_is_refused(copy, tmp_path):
    outside = tmp_path / "outside.onnx"
    shutil.move(copy / "encoder.onnx", outside)
    (copy / "encoder.onnx").symlink_to(outside)
    link = copy / "encoder.onnx"
    assert refusal(copy) == f"{link}: is a symbolic link; an export holds only regular files and folders."
    (copy / "encoder.onnx").unlink()
    shutil.move(outside, copy / "encoder.onnx")
    (copy / "more").symlink_to(tmp_path, target_is_directory=True)
    assert "more: is a symbolic link" in refusal(copy)


def test_seq2seq_translate_prints_one_line_for_a_damaged_export(copy, capsys):
    edit_manifest(copy, lambda manifest: manifest.update(start_id=10**30))
    assert main(["translate", str(copy), "Go."]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seq2seq: error: ") and err.count("\n") == 1 and "field 'start_id'" in err


def test_a_graph_that_does_not_fit_its_manifest_fails_in_one_line_when_run(copy):
    """Swap the two graphs' file names: each is a valid ONNX model, but not the one the manifest describes."""
    (copy / "encoder.onnx").rename(copy / "swap")
    (copy / "decoder.onnx").rename(copy / "encoder.onnx")
    (copy / "swap").rename(copy / "decoder.onnx")
    write_checksums(copy)
    assert "its inputs and outputs are not those seq2seq-export.json names" in refusal(copy)
