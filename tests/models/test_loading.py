"""Safe loading: a model file that carries code, or names classes outside Keras and keras-seq2seq, is refused."""

from __future__ import annotations

import json
import shutil
import time
import tracemalloc
import zipfile
from pathlib import Path

import keras
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seq2seq.cli import main
from seq2seq.config import TrainConfig
from seq2seq.errors import ConfigError, ModelFileError
from seq2seq.models.compile_objects import Adam, SmoothedTokenCrossentropy
from seq2seq.models.loading import MOST_CONFIG_BYTES, load, load_ensemble
from seq2seq.training.fit import compile_for_training
from seq2seq.translation.ensemble import Ensemble
from tests.conftest import one_line_error, tiny_model

DATA = Path(__file__).parent / "data"


def rewrite_config(path, change) -> None:
    """Rewrite the config.json inside the .keras archive at `path` with `change(config)`."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    change(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def marker_writer(marker):
    """A Python lambda that writes `marker` when it runs, and passes its input through."""
    return eval(f"lambda x: (__import__('pathlib').Path({str(marker)!r}).write_text('ran'), x)[1]")  # noqa: S307


def lambda_layer_config(marker) -> dict:
    """The config of a Lambda layer whose marshalled function writes `marker` when it runs."""
    return keras.saving.serialize_keras_object(keras.layers.Lambda(marker_writer(marker), output_shape=(3,)))


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.keras"
    tiny_model().save(path)
    return path


def test_an_untouched_model_file_loads(saved):
    assert load(saved).source_vocab.tokens == tiny_model().source_vocab.tokens


def test_a_file_written_when_the_metric_and_optimizer_lived_at_the_root_still_loads(tmp_path):
    """Files name their classes' modules, but are read by registered name: modules that are gone do not matter."""
    path = tmp_path / "old-layout.keras"
    model = tiny_model()
    compile_for_training(model, TrainConfig(label_smoothing=0.1))
    model.save(path)
    old_modules = {"Adam": "seq2seq.optimizers", "TokenAccuracy": "seq2seq.metrics"}
    old_modules["SmoothedTokenCrossentropy"] = "seq2seq.metrics"
    renamed = []

    def use_old_module_names(node):
        if isinstance(node, dict):
            if node.get("module") == "seq2seq.models.compile_objects":
                renamed.append(node["class_name"])
                node["module"] = old_modules[node["class_name"]]
            for value in node.values():
                use_old_module_names(value)
        elif isinstance(node, list):
            for value in node:
                use_old_module_names(value)

    rewrite_config(path, use_old_module_names)
    assert sorted(renamed) == sorted(old_modules)
    loaded = load(path)
    assert type(loaded.optimizer) is Adam and type(loaded.loss) is SmoothedTokenCrossentropy
    assert loaded.translate(["Go.", "Who are you?"]) == model.translate(["Go.", "Who are you?"])


def test_a_file_written_before_the_compile_objects_moved_to_models_loads_and_translates_as_it_did(tmp_path):
    """data/written-before-objects-moved.keras: a trained-one-step model saved by 0.1.0 (details in its .json)."""
    path = tmp_path / "model.keras"
    shutil.copy(DATA / "written-before-objects-moved.keras", path)
    written = json.loads((DATA / "written-before-objects-moved.json").read_text(encoding="utf-8"))
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    assert config["compile_config"]["optimizer"]["module"] == "seq2seq.training.optimizers"  # a module now gone
    model = load(path)
    assert type(model.optimizer) is Adam and type(model.loss) is SmoothedTokenCrossentropy
    assert model.loss.label_smoothing == 0.1 and int(model.optimizer.iterations) == 1
    assert model.translate(written["texts"]) == written["greedy"]
    nbest = model.translate_nbest(written["texts"], beam=3, nbest=2)
    assert [[h.text for h in hypotheses] for hypotheses in nbest] == [
        [text for text, _ in hypotheses] for hypotheses in written["beam_3_nbest_2"]
    ]
    scores = [score for hypotheses in written["beam_3_nbest_2"] for _, score in hypotheses]
    assert [h.score for hypotheses in nbest for h in hypotheses] == pytest.approx(scores, abs=1e-3)


def test_several_model_files_load_as_one_ensemble_named_by_their_paths(tmp_path):
    first, second, other = tmp_path / "a.keras", tmp_path / "b.keras", tmp_path / "c.keras"
    tiny_model(seed=4).save(first)
    tiny_model(seed=5).save(second)
    ensemble = load_ensemble([first, second])
    assert isinstance(ensemble, Ensemble) and ensemble.names == [str(first), str(second)]
    assert [model.source_vocab.tokens for model in ensemble.models] == [tiny_model().source_vocab.tokens] * 2
    tiny_model(seed=6, tokenizer="word").save(other)
    with pytest.raises(ConfigError, match="c.keras has a different target vocabulary from .*a.keras"):
        load_ensemble([first, other])


def test_a_model_replaced_by_a_lambda_layer_is_refused_without_running_it(tmp_path, saved):
    marker = tmp_path / "marker"
    sequential = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(marker_writer(marker))])
    marker.unlink(missing_ok=True)  # building the layer may have run the function once
    config = keras.saving.serialize_keras_object(sequential)
    rewrite_config(saved, lambda old: (old.clear(), old.update(config)))
    keras.saving.load_model(saved, safe_mode=False, compile=False)  # the payload is live: unsafe loading runs it
    assert marker.read_text() == "ran"
    marker.unlink()
    with pytest.raises(ModelFileError, match="is a Keras model but not a keras-seq2seq model"):
        load(saved)
    assert not marker.exists()


@pytest.mark.parametrize("where", ["loss", "inside the model's settings"])
def test_a_lambda_anywhere_in_a_seq2seq_model_file_is_refused(tmp_path, saved, where):
    payload = lambda_layer_config(tmp_path / "marker")["config"]["function"]
    assert payload["class_name"] == "__lambda__"

    def change(config):
        if where == "loss":
            config["compile_config"] = {"loss": payload, "optimizer": "adam"}
        else:
            config["config"]["training_summary"]["note"] = payload

    rewrite_config(saved, change)
    with pytest.raises(ModelFileError, match="holds a Python lambda function; it is refused"):
        load(saved)
    assert not (tmp_path / "marker").exists()


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda c: c.update(module="os", class_name="system", registered_name="os>system"),
            "not a keras-seq2seq model",
        ),
        (lambda c: c.update(registered_name="seq2seq>NoSuchModel"), "not a keras-seq2seq model"),
        (
            lambda c: c.update(compile_config={"optimizer": {"module": "os", "class_name": "system", "config": {}}}),
            "names the Python module 'os', which is neither Keras nor keras-seq2seq",
        ),
        (
            lambda c: c.update(
                compile_config={"optimizer": {"module": "builtins", "class_name": "function", "config": "exec"}}
            ),
            "names the Python module 'builtins'",
        ),
        (
            lambda c: c.update(
                compile_config={
                    "optimizer": {"module": "keras.optimizers", "class_name": "NoSuchOptimizer", "config": {}}
                }
            ),
            "cannot be loaded as a keras-seq2seq model: .*NoSuchOptimizer",
        ),
    ],
    ids=["foreign-model-class", "unknown-model-class", "foreign-module", "builtins-function", "unknown-keras-class"],
)
def test_unknown_classes_and_modules_are_refused_with_one_line(saved, change, expected):
    rewrite_config(saved, change)
    with pytest.raises(ModelFileError, match=expected) as info:
        load(saved)
    assert "\n" not in str(info.value)


def test_the_command_line_refuses_a_tampered_model_in_one_line(tmp_path, saved, capsys):
    marker = tmp_path / "marker"
    rewrite_config(saved, lambda config: config["config"]["training_summary"].update(note=lambda_layer_config(marker)))
    assert main(["translate", str(saved), "Go."]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seq2seq: error: ") and err.count("\n") == 1 and "Python lambda" in err
    assert not marker.exists()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["class_name", "module", "config", "registered_name", "name", "tokens", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values, where=st.sampled_from(["whole", "model settings", "vocabulary", "compile"]))
def test_any_json_in_the_config_is_refused_in_one_line_or_loads(saved, value, where):
    """Whatever config.json holds, loading gives a model or one ModelFileError, never another error."""
    original = saved.read_bytes()

    def change(config):
        if where == "whole":
            config.clear()
            config["x"] = value
        elif where == "model settings":
            config["config"]["model_config"] = value
        elif where == "vocabulary":
            config["config"]["source_vocab"] = value
        else:
            config["compile_config"] = value

    try:
        rewrite_config(saved, change)
        load(saved)
    except ModelFileError as error:
        assert "\n" not in str(error)
    finally:
        saved.write_bytes(original)


def spaces_archive(path, megabytes: int) -> None:
    """A .keras-named zip whose config.json is `megabytes` MB of spaces (about 1,000 times smaller compressed)."""
    chunk = b" " * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("config.json", "w") as member:
            for _ in range(megabytes):
                member.write(chunk)


def test_a_config_bomb_is_refused_unread_in_one_line(tmp_path, capsys):
    path = tmp_path / "bomb.keras"
    spaces_archive(path, 100)
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    started = time.perf_counter()
    message = one_line_error(ModelFileError, load, path)
    seconds, (_, peak) = time.perf_counter() - started, tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert f"its config.json declares {100 << 20:,} bytes, more than the {MOST_CONFIG_BYTES:,}" in message
    assert peak < 5 << 20 and seconds < 2, (peak, seconds)  # refused from the archive's directory, nothing inflated
    assert main(["info", str(path)]) == 2
    assert capsys.readouterr().err == f"seq2seq: error: {message}\n"


def test_a_config_whose_header_lies_about_its_size_is_not_read_past_it(tmp_path):
    """Declared 5 bytes, 100 MB inside: the bounded reader stops at 5 and the damage is named."""
    path = tmp_path / "liar.keras"
    spaces_archive(path, 100)
    data = bytearray(path.read_bytes())
    for at in (data.index(b"PK\x03\x04") + 22, data.rindex(b"PK\x01\x02") + 24):  # local and central headers
        data[at : at + 4] = (5).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    assert zipfile.ZipFile(path).getinfo("config.json").file_size == 5
    tracemalloc.start()
    message = one_line_error(ModelFileError, load, path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "is truncated or damaged" in message and peak < 5 << 20, (message, peak)


def test_a_weights_member_that_inflates_a_hundredfold_is_refused_unread(saved, tmp_path):
    bomb = tmp_path / "weights-bomb.keras"
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            if name != "model.weights.h5":
                archive.writestr(name, source.read(name))
        with archive.open("model.weights.h5", "w") as member:
            for _ in range(80):
                member.write(bytes(1 << 20))
    assert "its member model.weights.h5 declares" in one_line_error(ModelFileError, load, bomb)
