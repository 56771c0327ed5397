"""Training: `fit` over bucketed batches, with checkpoints, schedules, selection of the best weights and clean stops.

`seq2seq.train` and `seq2seq.resume` (in `fit`) are the entry points; the other modules are
the parts they put together.
"""
