"""Files whose weights sit under a former attribute name load as if written today; others are read as they are."""

from __future__ import annotations

import io
import zipfile

import h5py
import numpy as np

from seq2seq.models.loading import load
from seq2seq.models.weight_names import WEIGHTS, current_weight_names, former_groups
from tests.conftest import tiny_model


def _weight_groups(path) -> set[str]:
    with zipfile.ZipFile(path) as archive, archive.open(WEIGHTS) as member, h5py.File(member, "r") as weights:
        found = set()
        weights.visit(found.add)
        return found


def _with_former_names(path) -> None:
    """Rewrite `path` as the release before wrote it: the decoder's attention layer under `attention`."""
    with zipfile.ZipFile(path) as archive:
        members = {member: archive.read(member) for member in archive.infolist()}
    for member in members:
        if member.filename == WEIGHTS:
            buffer = io.BytesIO(members[member])
            with h5py.File(buffer, "r+") as weights:
                weights.move("decoder/attention_layer", "decoder/attention")
            members[member] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)


def test_a_file_with_the_attention_layer_under_its_former_name_loads_with_the_same_weights_and_translations(tmp_path):
    model = tiny_model(seed=4, attention="bahdanau")
    path = tmp_path / "model.keras"
    model.save(path)
    assert "decoder/attention_layer/key_projection" in _weight_groups(path)
    _with_former_names(path)
    groups = _weight_groups(path)
    assert "decoder/attention/key_projection" in groups and "decoder/attention_layer" not in groups
    loaded = load(path)
    for got, expected in zip(
        loaded.decoder.attention_layer.weights, model.decoder.attention_layer.weights, strict=True
    ):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))
    texts = ["Go.", "Who are you?"]
    assert loaded.translate(texts, beam=2) == model.translate(texts, beam=2)


def test_a_file_written_today_is_read_in_place_and_a_former_one_through_a_copy_removed_afterwards(tmp_path):
    path = tmp_path / "model.keras"
    tiny_model(seed=5, attention="luong-general").save(path)
    with current_weight_names(path) as readable:
        assert readable == path
    _with_former_names(path)
    with current_weight_names(path) as readable:
        assert readable != path and readable.name == path.name
        with zipfile.ZipFile(readable) as archive, archive.open(WEIGHTS) as member, h5py.File(member) as weights:
            assert former_groups(weights) == [] and "decoder/attention_layer/key_projection" in weights
    assert not readable.exists()
    assert "decoder/attention/key_projection" in _weight_groups(path)  # the file itself is left as it was
