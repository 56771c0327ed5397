"""What one request may ask of the service: the settings that bound it, and the checks that refuse it.

Every cap is refused with a 4xx that names the field, the value and the limit, before the
request reaches the decoding worker. The work budget bounds what a request costs as a whole:
beam × output tokens, summed over its texts (an output may hold `max_length` tokens, or, when
that is not given, 2 × its source tokens + 10, and at least its prefix's tokens + 10).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seq2seq.data.vocabulary import listed_tokens, unknown_tokens_in
from seq2seq.errors import ConfigError, Seq2SeqError, TextError
from seq2seq.search.config import SearchConfig
from seq2seq.settings_checks import is_number, require_non_negative_int, require_positive_int
from seq2seq.text import check
from seq2seq.translation.prefixes import PrefixError, encode_prefixes
from seq2seq.translation.translator import output_limit

SEED_RANGE = (-(2**31), 2**31 - 1)  # what the random generator's state holds
TEXT_HINT = "send UTF-8 text"


@dataclass(frozen=True)
class ServeSettings:
    """Limits, timeouts, access and batching knobs of the service (`seq2seq serve` sets them from its flags)."""

    max_texts: int = 64  # most texts in one request
    max_chars: int = 1000  # most characters in one text
    max_batch: int = 64  # most sentences decoded together
    max_wait_ms: float = 5.0  # longest a request waits for others to share its batch
    batching: bool = True  # gather concurrent requests into one decode
    max_output_tokens: int = 1000  # most a request's max_length may be
    max_min_length: int = 256  # most a request's min_length may be (and always below its max_length)
    max_beam: int = 32
    max_nbest: int = 10
    max_ngram: int = 16  # no_repeat_ngram: larger sizes only cost memory and time
    max_work: int = 200_000  # most beam × output tokens per request, over all its texts
    max_series: int = 64  # most series in one forecast request
    max_history: int = 10_000  # most steps of history per series in one forecast request
    slice_work: int = 16_384  # most beam × output tokens decoded in one go; deadlines and cancels act between slices
    deadline_s: float = 30.0  # a request not answered by then gets a 503 and its remaining work is dropped
    max_body_bytes: int = 1 << 20  # larger bodies get a 413 before they are read
    read_timeout_s: float = 10.0  # the request line, headers and body must each arrive within this
    keep_alive_s: int = 5  # an idle kept-alive connection is closed after this
    allowed_hosts: tuple[str, ...] = ()  # Host header names answered besides localhost and IP addresses; "*": any
    token: str | None = field(default=None, repr=False)  # when set, requests need "Authorization: Bearer <token>"
    debug: bool = False  # log the traceback of a failed request (otherwise one line)

    def __post_init__(self) -> None:
        for name in (
            "max_texts",
            "max_chars",
            "max_batch",
            "max_output_tokens",
            "max_beam",
            "max_nbest",
            "max_ngram",
            "max_work",
            "max_series",
            "max_history",
            "slice_work",
            "max_body_bytes",
            "keep_alive_s",
        ):
            require_positive_int(name, getattr(self, name))
        require_non_negative_int("max_min_length", self.max_min_length)
        if not is_number(self.max_wait_ms) or self.max_wait_ms < 0:
            raise ConfigError(f"max_wait_ms must be a number >= 0, got {self.max_wait_ms!r}.")
        for name in ("deadline_s", "read_timeout_s"):
            if not is_number(getattr(self, name)) or getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be a number of seconds > 0, got {getattr(self, name)!r}.")
        if self.token is not None and (not isinstance(self.token, str) or not self.token.strip()):
            raise ConfigError("the token must be a non-empty string; pass --token or set SEQ2SEQ_TOKEN to one.")

    def limits(self) -> dict:
        """The settings a client may see (`GET /info`): everything but the token."""
        return {name: value for name, value in self.__dict__.items() if name != "token"}


class RequestError(Seq2SeqError):
    """A request the service refuses; `status` is its HTTP status code."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def over(field_name: str, value, limit) -> RequestError:
    """The refusal of a value above the server's cap."""
    return RequestError(f"{field_name} is {value}, at most {limit} on this server.")


def check_search(config: SearchConfig, settings: ServeSettings) -> None:
    """Refuse search settings above the server's caps."""
    if config.max_length is not None and config.max_length > settings.max_output_tokens:
        raise over("max_length", config.max_length, settings.max_output_tokens)
    if config.min_length > settings.max_min_length:
        raise over("min_length", config.min_length, settings.max_min_length)
    if config.beam > settings.max_beam:
        raise over("beam", config.beam, settings.max_beam)
    if config.nbest > settings.max_nbest:
        raise over("nbest", config.nbest, settings.max_nbest)
    if config.no_repeat_ngram > settings.max_ngram:
        raise over("no_repeat_ngram", config.no_repeat_ngram, settings.max_ngram)
    if config.seed is not None and not SEED_RANGE[0] <= config.seed <= SEED_RANGE[1]:
        raise RequestError(f"seed must be an integer from {SEED_RANGE[0]} to {SEED_RANGE[1]}, got {config.seed}.")


def checked_texts(texts: list[str], settings: ServeSettings, field_name: str = "texts") -> list[str]:
    """`texts` under the text policy and the count and length limits (a leading BOM dropped)."""
    if not texts:
        raise RequestError(f"{field_name} is empty; send at least one text.")
    if len(texts) > settings.max_texts:
        raise RequestError(
            f"too many texts: {len(texts)}, at most {settings.max_texts} per request; split the request.", 413
        )
    checked = []
    for index, text in enumerate(texts):
        where = f"{field_name}[{index}]" if field_name == "texts" else field_name
        try:
            text = check(text, where, hint=TEXT_HINT)
        except TextError as error:
            raise RequestError(str(error)) from None
        if len(text) > settings.max_chars:
            raise RequestError(f"{where} has {len(text)} characters, at most {settings.max_chars} are allowed.", 413)
        checked.append(text)
    return checked


def source_ids(model, texts: list[str], field_name: str = "texts") -> list[list[int]]:
    """The source ids of each text; a text the tokenizer cannot read is refused by its index."""
    encoded = []
    for index, text in enumerate(texts):
        try:
            encoded.append(model.source_vocab.encode(text))
        except Exception as error:  # a tokenizer's own failure is this text's problem, not the server's
            where = f"{field_name}[{index}]" if field_name == "texts" else field_name
            raise RequestError(f"{where} cannot be tokenized ({type(error).__name__}); send plain text.") from None
    return encoded


def check_unknown(model, texts: list[str], encoded: list[list[int]]) -> None:
    """With `strict`, refuse source tokens outside the model's vocabulary."""
    unknown = unknown_tokens_in(model.source_vocab, texts, encoded)
    if unknown:
        listed = listed_tokens(unknown)
        raise RequestError(
            f"{len(unknown)} source token(s) are not in the model's vocabulary: {listed}; "
            "without strict they are read as <unk>."
        )


def checked_prefixes(model, prefix, count: int, config: SearchConfig, settings: ServeSettings) -> tuple:
    """`(prefix texts, their target ids)`, one per text, or `(None, None)` without a prefix.

    `prefix` is one text for every text of the request or a list with one per text; each is
    held to the text policy and the character cap, and refused where the model cannot force it:
    a token its target vocabulary lacks, or no room left within `max_length` (or, without one,
    within the server's `max_output_tokens`).
    """
    if prefix is None:
        return None, None
    if isinstance(prefix, list):
        if len(prefix) != count:
            raise RequestError(f"prefix holds {len(prefix)} texts for {count} texts; send one prefix, or one per text.")
        names = [f"prefix[{index}]" for index in range(count)]
    else:
        prefix, names = [prefix] * count, ["prefix"] * count
    texts = []
    for text, name in zip(prefix, names):
        try:
            text = check(text, name, hint=TEXT_HINT)
        except TextError as error:
            raise RequestError(str(error)) from None
        if len(text) > settings.max_chars:
            raise RequestError(f"{name} has {len(text)} characters, at most {settings.max_chars} are allowed.", 413)
        texts.append(text)
    try:
        ids = encode_prefixes(model.target_vocab, texts, count, config.max_length, names)
    except PrefixError as error:
        raise RequestError(str(error)) from None
    except Exception as error:  # the tokenizer's own failure is this prefix's problem
        raise RequestError(f"a prefix cannot be tokenized ({type(error).__name__}); send plain text.") from None
    for name, prefix_ids in zip(names, ids):
        if output_limit(config.max_length, 0, len(prefix_ids)) > settings.max_output_tokens:
            raise over(f"{name}'s target tokens + 10", len(prefix_ids) + 10, settings.max_output_tokens)
    return texts, ids


def check_work(config: SearchConfig, encoded: list[list[int]], settings: ServeSettings, prefix_ids=None) -> list[int]:
    """beam × the most output tokens of each text (what decoding it may cost), once the total is within the budget.

    `prefix_ids`, where given, count towards each output's tokens as they do in the search.
    """
    prefix_lengths = [len(ids) for ids in prefix_ids] if prefix_ids is not None else [0] * len(encoded)
    lengths = [output_limit(config.max_length, len(ids), length) for ids, length in zip(encoded, prefix_lengths)]
    if config.min_length and config.max_length is None and config.min_length >= min(lengths):
        raise RequestError(
            f"min_length is {config.min_length}, but an output may hold only {min(lengths)} tokens for "
            f"texts[{lengths.index(min(lengths))}]; send a max_length above min_length, or a smaller min_length."
        )
    costs = [config.beam * length for length in lengths]
    if sum(costs) > settings.max_work:
        raise RequestError(
            f"work is {sum(costs):,} (beam {config.beam} × {sum(lengths):,} output tokens over "
            f"{len(encoded)} text(s)), "
            f"at most {settings.max_work:,} on this server; send fewer texts, a smaller beam or a smaller max_length.",
            413,
        )
    return costs


def check_targets(model, targets: list[str], settings: ServeSettings) -> None:
    """Targets to score: each within the output-token cap, all together within the work budget."""
    lengths = []
    for index, text in enumerate(targets):
        try:
            lengths.append(len(model.target_vocab.encode(text)) + 1)  # the end is scored too
        except Exception as error:  # the tokenizer's failure is this text's problem
            raise RequestError(f"pairs[{index}] target cannot be tokenized ({type(error).__name__}).") from None
        if lengths[-1] > settings.max_output_tokens:
            raise over(f"pairs[{index}] target's tokens", lengths[-1], settings.max_output_tokens)
    if sum(lengths) > settings.max_work:
        raise RequestError(
            f"the targets hold {sum(lengths):,} tokens, at most {settings.max_work:,} on this server; "
            "send fewer pairs.",
            413,
        )
