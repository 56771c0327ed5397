"""Model files written before a layer attribute was renamed, read under the names the layers have now.

Keras files each layer's weights in the archive's model.weights.h5 under the path of attributes
that holds it (`decoder/attention/key_projection/vars`). The decoder's attention layer was the
attribute `attention` until that name went to the attention's kind, as on the command line; it
is now `attention_layer`. `current_weight_names` gives a file that still holds the former name as
a temporary copy with those groups renamed, and any other file as it is, so files written before
load unchanged. No other layer attribute was ever named `attention`, so the rename is exact.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import h5py

WEIGHTS = "model.weights.h5"
RENAMED = {"attention": "attention_layer"}  # a weight group's last name: former -> current


@contextlib.contextmanager
def current_weight_names(path: Path) -> Iterator[Path]:
    """`path`, or within this block a copy of it whose weight groups carry the current attribute names."""
    with zipfile.ZipFile(path) as archive:
        if WEIGHTS not in archive.namelist():
            former = []
        else:
            with archive.open(WEIGHTS) as member, h5py.File(member, "r") as weights:
                former = former_groups(weights)
        if not former:
            copy = None
        else:
            copy = tempfile.TemporaryDirectory(prefix="seq2seq-renamed-")
            _write_renamed(archive, Path(copy.name) / path.name)
    if copy is None:
        yield path
        return
    with copy:
        yield Path(copy.name) / path.name


def former_groups(weights: h5py.File) -> list[str]:
    """The paths of the groups in `weights` that carry a former attribute name, deepest first."""
    found = []
    weights.visititems(
        lambda name, item: (
            found.append(name) if isinstance(item, h5py.Group) and name.split("/")[-1] in RENAMED else None
        )
    )
    return sorted(found, key=lambda name: -name.count("/"))


def _write_renamed(archive: zipfile.ZipFile, destination: Path) -> None:
    """Copy `archive` to `destination`, its weight groups moved to the current names."""
    buffer = io.BytesIO(archive.read(WEIGHTS))
    with h5py.File(buffer, "r+") as weights:
        for name in former_groups(weights):
            parent, _, last = name.rpartition("/")
            weights.move(name, f"{parent}/{RENAMED[last]}" if parent else RENAMED[last])
    with zipfile.ZipFile(destination, "w") as copy:
        for member in archive.infolist():
            copy.writestr(member, buffer.getvalue() if member.filename == WEIGHTS else archive.read(member))
