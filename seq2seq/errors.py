"""Errors a user can cause. Each message is one sentence that says what to do."""


class Seq2SeqError(Exception):
    """Base class of every error a user can cause; its message is one sentence."""


class CorpusError(Seq2SeqError, ValueError):
    """A corpus file cannot be read as the format it claims."""


class ConfigError(Seq2SeqError, ValueError):
    """A model, training or search setting has an invalid value."""


class ModelFileError(Seq2SeqError):
    """A file cannot be loaded as a keras-seq2seq model."""


class UnknownTokensError(Seq2SeqError, ValueError):
    """A source holds tokens the model's vocabulary lacks, and strict mode is on."""


class UnknownTokensWarning(UserWarning):
    """Source tokens outside the vocabulary were read as the unknown token."""


class TextError(Seq2SeqError, ValueError):
    """Input text is not valid Unicode (bytes that are not UTF-8, or a lone surrogate)."""


class EmptyVocabularyWarning(UserWarning):
    """A vocabulary keeps none of its texts' tokens (a `min_frequency` above every count)."""


class OutputError(Seq2SeqError):
    """An output file cannot or should not be written (a read-only folder, a command's own input, a file of another
    kind)."""


class SeriesError(Seq2SeqError, ValueError):
    """A time-series file or frame cannot be read as the series it should hold (a missing column, a value that is
    not a number, times out of order, a series too short for the windows asked for)."""
