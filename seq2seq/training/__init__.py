"""Training: `fit` over bucketed batches, with checkpoints, schedules, selection of the best weights and clean stops.

`seq2seq.train` and `seq2seq.resume` (in `fit`) are the entry points; the other modules are
the parts they put together.
"""

from importlib import import_module

# When this package was one module, these were its names; they still import from here, lazily.
_FORMER_NAMES = {"train": "seq2seq.training.fit", "resume": "seq2seq.training.fit"}


def __getattr__(name):
    if name in _FORMER_NAMES:
        return getattr(import_module(_FORMER_NAMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
