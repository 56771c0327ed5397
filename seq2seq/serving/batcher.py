"""Request batching: concurrent requests with equal search settings share a decode, in slices.

Requests wait in a queue per `SearchConfig`. One dispatcher task takes the queue whose first
request has the earliest turn, once it is ready (its first request has waited `max_wait_ms`
for company, or it holds `max_batch` sentences), and decodes one slice of it in the single
worker thread: up to `max_batch` sentences and `slice_work` work (beam × output tokens,
as the caller costs each text). A new request's turn is its arrival. A request larger than a
slice is decoded over several; after each it goes to the back with its turn put off by the time
the slice took, so requests arriving meanwhile get as much of the worker before it runs again
(fair queuing by decode time). A request whose future was cancelled (its client left, or its
deadline passed) is dropped with its remaining texts.

A slice that fails is decoded again request by request, so only the request at fault gets
the error; the others get their results as if nothing happened.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from seq2seq.search.config import SearchConfig

Decode = Callable[[list[str], SearchConfig], list]  # texts, settings -> one result per text
# After any slice, how long a request whose turn has not come yet waits for others: clients
# answered a moment ago need a round trip to ask again, and their new requests' turns come
# first. A quarter of the request's last slice, at most this: alone, it loses little time.
RETURN_GRACE = 0.02


@dataclass
class _Pending:
    texts: list[str]
    costs: list[int]
    future: asyncio.Future
    ready_at: float  # when it may be decoded without waiting for others to join it
    turn: float  # requests are served in the order of their turns
    grace: float = 0.0  # put off after a slice: how long it waits for others after each slice
    results: list = field(default_factory=list)  # results of texts[:len(results)], the ones decoded so far


@dataclass
class _Part:
    pending: _Pending
    start: int
    end: int

    @property
    def texts(self) -> list[str]:
        return self.pending.texts[self.start : self.end]


class Batcher:
    """Gathers `translate(texts, config)` calls into sliced batches decoded by one worker thread.

    `decode(texts, config)` returns one result per text in order (e.g. `model.translate_nbest`).
    With `batching=False` a slice holds one request's texts only, still in the worker thread.
    """

    def __init__(
        self,
        decode: Decode,
        max_batch: int = 64,
        max_wait_ms: float = 5.0,
        batching: bool = True,
        slice_work: int | None = None,
    ):
        self.decode = decode
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.batching = batching
        self.slice_work = slice_work  # None: no limit besides max_batch
        self.requests_received = 0  # translate calls (for tests and /info)
        self.batches_decoded = 0  # decode calls that served them
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seq2seq-decode")
        self._queues: dict[SearchConfig, list[_Pending]] = {}
        self._arrived: asyncio.Event | None = None
        self._dispatcher: asyncio.Task | None = None

    async def translate(self, texts: list[str], config: SearchConfig, costs: list[int] | None = None) -> list:
        """The results of `texts` under `config`; `costs` is each text's work (1 each if not given).

        Cancelling the call drops the request's texts not yet decoded.
        """
        self.requests_received += 1
        self._start()
        now = time.monotonic()
        pending = _Pending(
            list(texts),
            list(costs or [1] * len(texts)),
            asyncio.get_running_loop().create_future(),
            now + self.max_wait if self.batching else now,
            now,
        )
        self._queues.setdefault(config, []).append(pending)
        self._arrived.set()
        return await pending.future

    async def run_in_worker(self, function, *args):
        """Run `function(*args)` in the decode thread (any model call goes through here)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def close(self) -> None:
        """Stop the dispatcher, fail requests still waiting, and end the worker thread."""
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            try:
                await self._dispatcher
            except asyncio.CancelledError:
                pass
        for queue in self._queues.values():
            for pending in queue:
                if not pending.future.done():
                    pending.future.set_exception(RuntimeError("the server is shutting down"))
        self._queues.clear()
        self._executor.shutdown(wait=True)

    def _start(self) -> None:
        if self._dispatcher is None or self._dispatcher.done():
            self._arrived = asyncio.Event()
            self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch_forever())

    async def _dispatch_forever(self) -> None:
        while True:
            config = await self._next_ready_queue()
            if config is None:
                self._arrived.clear()
                await self._arrived.wait()
                continue
            parts = self._take(config)
            started = time.monotonic()
            await self._decode_parts(config, parts)
            for part in parts:
                self._requeue(config, part.pending, time.monotonic() - started)
            self._let_others_ask()

    async def _next_ready_queue(self) -> SearchConfig | None:
        """The settings of the queue whose first request's turn comes first, once it is ready; None if none waits."""
        while True:
            self._tidy()
            if not self._queues:
                return None
            config = min(self._queues, key=lambda c: self._queues[c][0].turn)
            queue = self._queues[config]
            remaining = queue[0].ready_at - time.monotonic()
            if remaining <= 0 or sum(len(p.texts) - len(p.results) for p in queue) >= self.max_batch:
                return config
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout=remaining)
            except asyncio.TimeoutError:
                pass

    def _tidy(self) -> None:
        """Forget requests whose callers stopped waiting (cancelled, or already failed); order the rest by turn."""
        for config in list(self._queues):
            waiting = (pending for pending in self._queues[config] if not pending.future.done())
            self._queues[config] = sorted(waiting, key=lambda pending: pending.turn)
            if not self._queues[config]:
                del self._queues[config]

    def _take(self, config: SearchConfig) -> list[_Part]:
        """A slice from the front of `config`'s queue: one or more sentences, within `max_batch` and `slice_work`;
        a request put off after its last slice joins only a slice it starts."""
        parts, sentences, work, now = [], 0, 0, time.monotonic()
        for pending in self._queues[config]:
            if parts and pending.turn > now:
                break
            start = end = len(pending.results)
            while end < len(pending.texts) and (sentences == 0 or self._fits(sentences, work + pending.costs[end])):
                sentences, work, end = sentences + 1, work + pending.costs[end], end + 1
            if end > start:
                parts.append(_Part(pending, start, end))
            if end < len(pending.texts) or not self.batching:
                break
        return parts

    def _fits(self, sentences: int, work: int) -> bool:
        """Whether one more sentence, making the slice's work `work`, fits in the slice."""
        return sentences < self.max_batch and (self.slice_work is None or work <= self.slice_work)

    def _requeue(self, config: SearchConfig, pending: _Pending, seconds: float) -> None:
        """After a slice of `seconds`: a finished request leaves the queue; an unfinished one goes to its back,
        its turn put off by `seconds`."""
        queue = self._queues.get(config, [])
        if pending in queue:
            queue.remove(pending)
            if not pending.future.done():
                now = time.monotonic()
                pending.turn, pending.grace = now + seconds, min(RETURN_GRACE, seconds / 4)
                queue.append(pending)
        if config in self._queues and not queue:
            del self._queues[config]

    def _let_others_ask(self) -> None:
        """After a slice, requests whose turn has not come wait their grace for others to arrive."""
        now = time.monotonic()
        for queue in self._queues.values():
            for pending in queue:
                if pending.turn > now:
                    pending.ready_at = max(pending.ready_at, now + pending.grace)

    async def _decode_parts(self, config: SearchConfig, parts: list[_Part]) -> None:
        texts = [text for part in parts for text in part.texts]
        try:
            results = await self.run_in_worker(self._decode_quietly, texts, config)
        except Exception as error:
            if len(parts) == 1:
                self._fail(parts[0].pending, error)
                return
            for part in parts:  # one by one, so that only the request at fault fails
                await self._decode_alone(config, part)
            return
        start = 0
        for part in parts:
            self._deliver(part, results[start : start + len(part.texts)])
            start += len(part.texts)

    async def _decode_alone(self, config: SearchConfig, part: _Part) -> None:
        if part.pending.future.done():
            return
        try:
            self._deliver(part, await self.run_in_worker(self._decode_quietly, part.texts, config))
        except Exception as error:
            self._fail(part.pending, error)

    @staticmethod
    def _deliver(part: _Part, results: list) -> None:
        pending = part.pending
        if pending.future.done():  # a client that went away leaves a cancelled future
            return
        pending.results.extend(results)
        if len(pending.results) == len(pending.texts):
            pending.future.set_result(pending.results)

    @staticmethod
    def _fail(pending: _Pending, error: Exception) -> None:
        if not pending.future.done():
            pending.future.set_exception(error)

    def _decode_quietly(self, texts: list[str], config: SearchConfig) -> list:
        """Decode in the worker thread; unknown-token warnings are the client's business, not the log's."""
        self.batches_decoded += 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.decode(texts, config)
