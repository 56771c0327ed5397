"""Seq2Seq: the trainable encoder-decoder and the classic inference models, from one set of layers."""

from __future__ import annotations

import keras
from keras import ops

from seq2seq.config import ModelConfig
from seq2seq.data.vocabulary import Vocabulary
from seq2seq.layers.decoder import RecurrentDecoder
from seq2seq.layers.encoder import RecurrentEncoder
from seq2seq.layers.recurrent import state_names
from seq2seq.metrics import TokenAccuracy  # noqa: F401  (registers the metric for loading)
from seq2seq.saving import FORMAT_VERSION, write_atomically

ENCODER_INPUT, DECODER_INPUT = "encoder_tokens", "decoder_tokens"


class _InferenceCache:
    """Holds models and compiled functions derived from the layers (kept out of Keras tracking)."""

    def __init__(self):
        self.encoder_model = None
        self.decoder_model = None
        self.translator = None


@keras.saving.register_keras_serializable(package="seq2seq")
class Seq2Seq(keras.Model):
    """An encoder-decoder translation model with its vocabularies.

    Training input: `{"encoder_tokens": (batch, src_len), "decoder_tokens": (batch, tgt_len)}`
    (decoder tokens start with the start id: teacher forcing); output: logits
    `(batch, tgt_len, target vocabulary)`. Padding id 0 is masked everywhere.
    `encoder_model` and `decoder_model` are the classic recipe's inference models.
    """

    def __init__(
        self,
        model_config: ModelConfig | dict,
        source_vocab: Vocabulary | dict,
        target_vocab: Vocabulary | dict,
        training_summary: dict | None = None,
        format_version: int = FORMAT_VERSION,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.model_config = model_config if isinstance(model_config, ModelConfig) else ModelConfig.from_dict(model_config)
        self.source_vocab = _as_vocabulary(source_vocab)
        self.target_vocab = _as_vocabulary(target_vocab)
        self.training_summary = dict(training_summary or {})
        # `format_version` is checked by `from_config`; files are always written at FORMAT_VERSION.
        settings = {
            "cell": self.model_config.cell,
            "units": self.model_config.units,
            "layers": self.model_config.layers,
            "embedding_dim": self.model_config.embedding_dim,
            "dropout": self.model_config.dropout,
        }
        self.encoder = RecurrentEncoder(len(self.source_vocab), name="encoder", **settings)
        self.decoder = RecurrentDecoder(len(self.target_vocab), name="decoder", **settings)
        self._inference = _InferenceCache()
        self.build()

    def build(self, input_shape=None):
        """Create every weight by running the layers once on a one-token batch."""
        one_token = ops.ones((1, 1), dtype="int32")
        self.call({ENCODER_INPUT: one_token, DECODER_INPUT: one_token})

    # -- the training graph ------------------------------------------------------------

    def call(self, inputs, training=None):
        source, target = _unpack_inputs(inputs)
        states = self.initial_decoder_states(source, training=training)
        logits, _ = self.decoder(target, states, training=training)
        return logits

    def initial_decoder_states(self, source_ids, training=None) -> list:
        """Encode `source_ids (batch, src_len)`; return the decoder's initial states."""
        _, states = self.encoder(source_ids, training=training)
        return list(states)

    def search_step(self, token_ids, states):
        """The step callable of the search strategies: `(log_probs (batch, vocab), states)`."""
        logits, states = self.decoder.step(token_ids, states)
        return ops.log_softmax(ops.cast(logits, "float32"), axis=-1), states

    # -- the classic inference models --------------------------------------------------

    @property
    def state_names(self) -> list[str]:
        """Names of the decoder states, in the order the inference models take them."""
        return state_names(self.model_config.cell, self.model_config.layers)

    @property
    def encoder_model(self) -> keras.Model:
        """`keras.Model`: source ids `(batch, src_len)` to the decoder's initial states."""
        if self._inference.encoder_model is None:
            source = keras.Input((None,), dtype="int32", name=ENCODER_INPUT)
            states = self.initial_decoder_states(source)
            outputs = [keras.layers.Identity(name=name)(s) for name, s in zip(self.state_names, states)]
            self._inference.encoder_model = keras.Model(source, outputs, name="encoder_model")
        return self._inference.encoder_model

    @property
    def decoder_model(self) -> keras.Model:
        """`keras.Model`: `[target ids (batch, 1)] + states` to `[probabilities (batch, 1, vocab)] + new states`."""
        if self._inference.decoder_model is None:
            tokens = keras.Input((1,), dtype="int32", name=DECODER_INPUT)
            units = self.model_config.units
            state_inputs = [keras.Input((units,), name=name) for name in self.state_names]
            logits, new_states = self.decoder(tokens, state_inputs)
            probabilities = keras.layers.Activation("softmax", name="probabilities")(logits)
            outputs = [probabilities] + [
                keras.layers.Identity(name=f"new_{name}")(s) for name, s in zip(self.state_names, new_states)
            ]
            self._inference.decoder_model = keras.Model([tokens] + state_inputs, outputs, name="decoder_model")
        return self._inference.decoder_model

    # -- translation, saving -----------------------------------------------------------

    def translate(self, texts, batch_size: int = 256, max_length: int | None = None) -> list[str]:
        """Translate many texts at once with compiled batched greedy search."""
        from seq2seq.translator import Translator

        if self._inference.translator is None:
            self._inference.translator = Translator(self)
        return self._inference.translator.translate(texts, batch_size=batch_size, max_length=max_length)

    def save(self, filepath, overwrite: bool = True, **kwargs) -> None:
        """Write one `.keras` file atomically: a crash never leaves a half-written model."""
        write_atomically(filepath, lambda tmp: super(Seq2Seq, self).save(tmp, overwrite=True, **kwargs), overwrite)

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "model_config": self.model_config.to_dict(),
            "source_vocab": self.source_vocab.get_config(),
            "target_vocab": self.target_vocab.get_config(),
            "training_summary": dict(self.training_summary),
            "format_version": FORMAT_VERSION,
        }

    @classmethod
    def from_config(cls, config: dict) -> "Seq2Seq":
        from seq2seq.saving import check_format_version

        check_format_version(config.get("format_version"))
        return cls(**config)


def _as_vocabulary(vocab: Vocabulary | dict) -> Vocabulary:
    return vocab if isinstance(vocab, Vocabulary) else Vocabulary.from_config(vocab)


def _unpack_inputs(inputs):
    if isinstance(inputs, dict):
        return inputs[ENCODER_INPUT], inputs[DECODER_INPUT]
    source, target = inputs
    return source, target
