"""A SavedModel runs only if it holds the operations of our own graphs: a foreign one is refused before it loads."""

from __future__ import annotations

import re
import shutil

import pytest
import tensorflow as tf

from seq2seq.export.checksums import write_checksums
from seq2seq.export.exporter import export_model
from seq2seq.export.manifest import ExportedModelError
from seq2seq.export.saved_model_ops import check_saved_model
from seq2seq.export.translator import ExportedTranslator
from tests.conftest import one_line_error, tiny_model

pytestmark = pytest.mark.filterwarnings("ignore::seq2seq.errors.UnknownTokensWarning")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = tiny_model(seed=6, cell="gru")
    return model, export_model(model, tmp_path_factory.mktemp("export") / "saved", "saved_model")


@pytest.fixture
def copy(exported, tmp_path):
    return shutil.copytree(exported[1], tmp_path / "copy")


def copying_decoder(source, target, state_names):
    """A decoder step with the real signature's inputs that also copies `source` to `target` when called."""

    class Copier(tf.Module):
        @tf.function(
            input_signature=[
                tf.TensorSpec((None, 1), tf.int32, name="decoder_tokens"),
                *(tf.TensorSpec((None, 7), tf.float32, name=name) for name in state_names),
            ]
        )
        def serve(self, decoder_tokens, *states):
            tf.io.write_file(str(target), tf.io.read_file(str(source)))
            probabilities = tf.zeros((tf.shape(decoder_tokens)[0], 1, 9))
            return {f"output_{index}": value for index, value in enumerate([probabilities, *states])}

    return Copier()


def test_the_exporters_own_saved_models_pass(exported):
    for graph in ("encoder", "decoder"):
        check_saved_model(exported[1] / graph)


def test_a_saved_model_that_copies_a_file_is_refused_before_it_runs(exported, copy, tmp_path):
    source, target = tmp_path / "secret.txt", tmp_path / "copied.txt"
    source.write_text("secret", encoding="utf-8")
    module = copying_decoder(source, target, ["state_h_0"])
    shutil.rmtree(copy / "decoder")
    tf.saved_model.save(module, str(copy / "decoder"), signatures={"serving_default": module.serve})
    write_checksums(copy)  # whoever can write the folder can rewrite its digests
    tf.saved_model.load(str(copy / "decoder")).signatures["serving_default"](
        decoder_tokens=tf.zeros((1, 1), tf.int32), state_h_0=tf.zeros((1, 7))
    )
    assert target.read_text(encoding="utf-8") == "secret"  # the payload is live: TensorFlow runs it
    target.unlink()

    message = one_line_error(ExportedModelError, ExportedTranslator, copy)
    assert message.startswith(str(copy / "decoder" / "saved_model.pb"))
    assert re.search("uses the operation '(Read|Write)File', which seq2seq export never writes", message), message
    assert not target.exists()


def test_a_saved_model_that_is_not_one_is_refused_in_one_line(copy):
    (copy / "encoder" / "saved_model.pb").write_bytes(b"\x0a\xff\xff\xff\xff\x0f garbage")
    write_checksums(copy)
    message = one_line_error(ExportedModelError, ExportedTranslator, copy)
    path = copy / "encoder" / "saved_model.pb"
    assert message == f"{path}: is not a SavedModel (truncated or damaged); export the model again."


def test_a_tensorflow_1_saved_model_is_refused_because_its_loader_runs_graph_operations(copy):
    from tensorflow.core.protobuf import saved_model_pb2

    path = copy / "encoder" / "saved_model.pb"
    saved = saved_model_pb2.SavedModel.FromString(path.read_bytes())
    saved.meta_graphs[0].ClearField("object_graph_def")
    path.write_bytes(saved.SerializeToString())
    write_checksums(copy)
    message = one_line_error(ExportedModelError, ExportedTranslator, copy)
    assert "is not a TensorFlow 2 SavedModel with one graph" in message


def test_checkpoint_operations_are_refused_where_the_loader_can_run_them(copy):
    """The save function TensorFlow writes may hold SaveV2, but not once a signature calls it."""
    from tensorflow.core.protobuf import saved_model_pb2

    path = copy / "decoder" / "saved_model.pb"
    saved = saved_model_pb2.SavedModel.FromString(path.read_bytes())
    library = saved.meta_graphs[0].graph_def.library.function
    save = next(function.signature.name for function in library if "_traced_save" in function.signature.name)
    signature = next(function for function in library if "signature_wrapper" in function.signature.name)
    call = signature.node_def.add(name="also_save", op="StatefulPartitionedCall")
    call.attr["f"].func.name = save
    path.write_bytes(saved.SerializeToString())
    message = one_line_error(ExportedModelError, check_saved_model, copy / "decoder")
    assert f"function {save!r} uses the operation" in message
