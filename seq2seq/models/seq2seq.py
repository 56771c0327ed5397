"""Seq2Seq: the trainable encoder-decoder and the classic inference models, from one set of layers."""

from __future__ import annotations

import keras
from keras import ops

from seq2seq.config import ModelConfig
from seq2seq.data.vocabulary import Vocabulary
from seq2seq.errors import ConfigError
from seq2seq.evaluation.scores import evaluate_model
from seq2seq.layers.bridge import Bridge, zero_rows
from seq2seq.layers.decoder import RecurrentDecoder
from seq2seq.layers.encoder import RecurrentEncoder
from seq2seq.layers.recurrent import state_names
from seq2seq.models import compile_objects  # noqa: F401  (registers the loss, metric and optimizer a file names)
from seq2seq.models.format import FORMAT_VERSION, check_format_version, write_atomically
from seq2seq.models.freezing import freeze_layers, frozen_by_summary
from seq2seq.models.inference import InferenceModel
from seq2seq.models.precision import model_precision, set_layers_precision
from seq2seq.translation.sentence_vectors import encode_texts
from seq2seq.translation.translating import Translating

ENCODER_INPUT, DECODER_INPUT = "encoder_tokens", "decoder_tokens"


class _InferenceCache:
    """Holds the inference models derived from the layers (kept out of Keras tracking)."""

    def __init__(self):
        self.encoder_model = None
        self.decoder_model = None


@keras.saving.register_keras_serializable(package="seq2seq")
class Seq2Seq(Translating, keras.Model):
    """An encoder-decoder translation model with its vocabularies.

    Training input: `{"encoder_tokens": (batch, src_len), "decoder_tokens": (batch, tgt_len)}`
    (decoder tokens start with the start id: teacher forcing); output: logits
    `(batch, tgt_len, target vocabulary)`. Padding id 0 is masked everywhere.
    `encoder_model` and `decoder_model` are the classic recipe's inference models; `translate`,
    `translate_nbest` and `translator` come from `Translating`, over the step interface below.
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
        self.model_config = (
            model_config if isinstance(model_config, ModelConfig) else ModelConfig.from_dict(model_config)
        )
        self.source_vocab = _as_vocabulary(source_vocab)
        self.target_vocab = _as_vocabulary(target_vocab)
        self.training_summary = dict(training_summary or {})
        # `format_version` is checked by `from_config`; files are always written at FORMAT_VERSION.
        config = self.model_config
        _check_joint_vocabulary(config, self.source_vocab, self.target_vocab)
        self.encoder = RecurrentEncoder(
            len(self.source_vocab),
            cell=config.cell,
            units=config.units,
            layers=config.layers,
            embedding_dim=config.embedding_dim,
            dropout=config.dropout,
            bidirectional=config.bidirectional,
            name="encoder",
        )
        self.bridge = Bridge(
            config.bridge,
            cell=config.cell,
            encoder_layers=config.layers,
            decoder_layers=config.decoder_depth,
            bidirectional=config.bidirectional,
            decoder_units=config.decoder_units,
            name="bridge",
        )
        self.decoder = RecurrentDecoder(
            len(self.target_vocab),
            cell=config.cell,
            decoder_units=config.decoder_units,
            layers=config.decoder_depth,
            embedding_dim=config.embedding_dim,
            dropout=config.dropout,
            attention=config.attention,
            memory_units=config.encoder_output_units,
            tie_embeddings=config.tie_embeddings,
            # one matrix for the source and target inputs and the output: the encoder's embedding
            token_input=self.encoder.token_input if config.tie_embeddings and config.joint_vocab else None,
            name="decoder",
        )
        self._inference = _InferenceCache()
        self.build()
        freeze_layers(self, frozen_by_summary(self.training_summary))  # a fine-tuning's freezing, on every load

    def build(self, input_shape=None):
        """Create every weight by running the layers once on a one-token batch."""
        one_token = ops.ones((1, 1), dtype="int32")
        self.call({ENCODER_INPUT: one_token, DECODER_INPUT: one_token})

    # -- the training graph ------------------------------------------------------------

    def call(self, inputs, training=None):
        source, target = _unpack_inputs(inputs)
        states, memory = self.encode(source, training=training)
        return self.decoder(target, states, memory, training=training)[0]

    @property
    def has_attention(self) -> bool:
        return self.model_config.attention != "none"

    def encode(self, source_ids, training=None):
        """Encode `source_ids (batch, src_len)`.

        Returns `(decoder initial states, memory)`: memory is `(encoder outputs, source mask)`
        for attention models and None otherwise.
        """
        outputs, final_states = self.encoder(source_ids, training=training)
        mask = ops.not_equal(source_ids, 0)
        states = self.bridge(list(final_states), outputs, mask)
        if not self.has_attention:
            return states, None
        first_feed = zero_rows(outputs[:, 0], self.model_config.decoder_units)
        return states + [first_feed], (outputs, mask)

    def search_start(self, source_ids, beam: int = 1):
        """`(decoder states, prepared memory or None)` before a search's first step; the memory has `beam` rows
        per sentence."""
        states, memory = self.encode(source_ids)
        prepared = self.decoder.prepare_memory(memory)
        if prepared is not None and beam > 1:  # one copy of the source per hypothesis
            prepared = tuple(ops.repeat(part, beam, axis=0) for part in prepared)
        return states, prepared

    def search_step(self, token_ids, states, prepared_memory=None):
        """The step callable of the search strategies: `(log_probs (batch, vocab), states)`."""
        logits, states = self.decoder.step(token_ids, states, prepared_memory)
        return ops.log_softmax(logits, axis=-1), states

    def attended_search_step(self, token_ids, states, prepared_memory):
        """`search_step` that also returns the step's attention weights `(batch, src_len)` (attention models)."""
        logits, states, weights = self.decoder.attended_step(token_ids, states, prepared_memory)
        return ops.log_softmax(logits, axis=-1), states, weights

    # -- the classic inference models --------------------------------------------------

    @property
    def state_names(self) -> list[str]:
        """Names of the decoder states, in the order the inference models take them."""
        names = state_names(self.model_config.cell, self.model_config.decoder_depth)
        return names + ["state_attentional"] if self.has_attention else names

    @property
    def encoder_model(self) -> keras.Model:
        """`keras.Model`: source ids `(batch, src_len)` to the decoder's initial states.

        Attention models also return `encoder_outputs (batch, src_len, units)` and
        `encoder_mask (batch, src_len)` (1.0 on real tokens), after the states.
        """
        if self._inference.encoder_model is None:
            source = keras.Input((None,), dtype="int32", name=ENCODER_INPUT)
            states, memory = self.encode(source)
            outputs = _named(states, self.state_names)
            if memory is not None:
                outputs += _named([memory[0], ops.cast(memory[1], "float32")], ["encoder_outputs", "encoder_mask"])
            self._inference.encoder_model = InferenceModel(source, outputs, name="encoder_model")
        return self._inference.encoder_model

    @property
    def decoder_model(self) -> keras.Model:
        """`keras.Model`: `[target ids (batch, 1)] + states` to `[probabilities (batch, 1, vocab)] + new states`.

        Attention models also take `encoder_outputs` and `encoder_mask` after the states, and
        return `attention_weights (batch, 1, src_len)` after the new states.
        """
        if self._inference.decoder_model is None:
            tokens = keras.Input((1,), dtype="int32", name=DECODER_INPUT)
            units = self.model_config.decoder_units
            inputs = [tokens] + [keras.Input((units,), name=name) for name in self.state_names]
            memory = None
            if self.has_attention:
                memory_units = self.model_config.encoder_output_units
                memory = [
                    keras.Input((None, memory_units), name="encoder_outputs"),
                    keras.Input((None,), name="encoder_mask"),
                ]
                inputs += memory
            logits, new_states, *weights = self.decoder(tokens, inputs[1 : 1 + len(self.state_names)], memory)
            probabilities = keras.layers.Activation("softmax", name="probabilities")(logits)
            outputs = [probabilities] + _named(new_states, [f"new_{name}" for name in self.state_names])
            outputs += _named(weights, ["attention_weights"])
            self._inference.decoder_model = InferenceModel(inputs, outputs, name="decoder_model")
        return self._inference.decoder_model

    # -- translation, evaluation, precision, saving ---------------------------------------

    def encode_texts(self, texts, pooling: str = "final", batch_size: int = 256):
        """Sentence vectors `(len(texts), dim)` from the encoder: `final` states or `mean` of outputs."""
        return encode_texts(self, texts, pooling, batch_size)

    @property
    def precision(self) -> str:
        """What the layers compute in: `float32`, or `bfloat16` (bfloat16 maths, float32 weights)."""
        return model_precision(self)

    def set_precision(self, precision: str) -> None:
        """Compute in `float32` or `bfloat16` from now on (faster on CPUs with bfloat16 units)."""
        set_layers_precision(self, precision)
        self._inference = _InferenceCache()  # inference models and compiled searches are rebuilt
        self.forget_translator()

    def evaluate_translations(self, pairs, search=None, **overrides) -> dict:
        """Corpus BLEU, chrF, TER and exact match of this model's translations of `pairs`' sources."""
        return evaluate_model(self, pairs, search, **overrides)[0]

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
        check_format_version(config.get("format_version"))
        return cls(**config)


def _named(tensors, names) -> list:
    """Give symbolic tensors output names through identity layers."""
    return [keras.layers.Identity(name=name)(tensor) for name, tensor in zip(names, tensors)]


def _check_joint_vocabulary(config: ModelConfig, source_vocab: Vocabulary, target_vocab: Vocabulary) -> None:
    """A joint-vocabulary model reads both sides with one table of tokens; refuse two different ones."""
    if config.joint_vocab and source_vocab.tokens != target_vocab.tokens:
        raise ConfigError(
            f"joint_vocab needs one vocabulary for both sides, got {len(source_vocab):,} source and "
            f"{len(target_vocab):,} target tokens that differ; build them with build_vocabularies(..., joint=True)."
        )


def _as_vocabulary(vocab: Vocabulary | dict) -> Vocabulary:
    return vocab if isinstance(vocab, Vocabulary) else Vocabulary.from_config(vocab)


def _unpack_inputs(inputs):
    if isinstance(inputs, dict):
        return inputs[ENCODER_INPUT], inputs[DECODER_INPUT]
    source, target = inputs
    return source, target
