"""Training: `fit` over bucketed batches, with checkpoints, schedules, selection of the best weights and clean stops.

`seq2seq.train` and `seq2seq.resume` (in `fit`) are the entry points; the other modules are
the parts they put together.
"""

from seq2seq import lazy_attributes

# When this package was one module, these were its names; they still import from here, lazily.
__getattr__ = lazy_attributes(__name__, {"train": "seq2seq.training.fit", "resume": "seq2seq.training.fit"})
