"""keras-seq2seq: sequence-to-sequence learning with recurrent encoder-decoder networks on Keras 3.

The public names are imported on first use, so `import seq2seq` (and `seq2seq --help`)
stays fast until a model is needed.
"""

from importlib import import_module

__version__ = "0.1.0"

_PUBLIC = {
    "ConfigError": "seq2seq.errors",
    "CorpusError": "seq2seq.errors",
    "ModelFileError": "seq2seq.errors",
    "Seq2SeqError": "seq2seq.errors",
    "ModelConfig": "seq2seq.config",
    "TrainConfig": "seq2seq.config",
    "SearchConfig": "seq2seq.search.config",
    "Hypothesis": "seq2seq.translation.translator",
    "Corpus": "seq2seq.data.corpus",
    "read_corpus": "seq2seq.data.corpus",
    "read_parallel": "seq2seq.data.corpus",
    "read_tatoeba": "seq2seq.data.corpus",
    "Vocabulary": "seq2seq.data.vocabulary",
    "Seq2Seq": "seq2seq.models.seq2seq",
    "train": "seq2seq.training.fit",
    "resume": "seq2seq.training.fit",
    "load": "seq2seq.models.loading",
    "Ensemble": "seq2seq.translation.ensemble",
    "load_ensemble": "seq2seq.models.loading",
    "attention_statistics": "seq2seq.evaluation.attention_stats",
}

__all__ = sorted(_PUBLIC)


def lazy_attributes(package: str, names: dict[str, str]):
    """A module `__getattr__` for `package` that imports each of `names` from its module on first use."""

    def __getattr__(name):
        if name in names:
            return getattr(import_module(names[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


__getattr__ = lazy_attributes(__name__, _PUBLIC)


def __dir__():
    return sorted(list(globals()) + __all__)
