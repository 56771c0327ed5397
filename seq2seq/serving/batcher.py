"""Request batching: concurrent requests with equal search settings share one decode.

Requests wait in a queue per `SearchConfig`. One dispatcher task takes the oldest request's
queue once it holds `max_batch` sentences or the oldest request has waited `max_wait_ms`,
and decodes that whole group in the single worker thread, so the event loop stays free to
accept more requests while a batch is being decoded (they gather into the next batch).
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


@dataclass
class _Pending:
    texts: list[str]
    future: asyncio.Future
    arrived: float = field(default_factory=time.monotonic)


class Batcher:
    """Gathers `translate(texts, config)` calls into batches decoded by one worker thread.

    `decode(texts, config)` returns one result per text in order (e.g. `model.translate_nbest`).
    With `batching=False` every request is decoded alone, still in the worker thread.
    """

    def __init__(self, decode: Decode, max_batch: int = 64, max_wait_ms: float = 5.0, batching: bool = True):
        self.decode = decode
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.batching = batching
        self.requests_received = 0  # translate calls (for tests and /info)
        self.batches_decoded = 0  # decode calls that served them
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seq2seq-decode")
        self._queues: dict[SearchConfig, list[_Pending]] = {}
        self._arrived: asyncio.Event | None = None
        self._dispatcher: asyncio.Task | None = None

    async def translate(self, texts: list[str], config: SearchConfig) -> list:
        """The results of `texts` under `config`, decoded together with other waiting requests."""
        self.requests_received += 1
        if not self.batching:
            return await self.run_in_worker(self._decode_quietly, texts, config)
        self._start()
        pending = _Pending(list(texts), asyncio.get_running_loop().create_future())
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
            if not self._queues:
                self._arrived.clear()
                await self._arrived.wait()
            config = await self._next_full_queue()
            group = self._take(config)
            await self._decode_group(config, group)

    async def _next_full_queue(self) -> SearchConfig:
        """The settings of the oldest waiting request, once its group is full or has waited long enough."""
        while True:
            config = min(self._queues, key=lambda c: self._queues[c][0].arrived)
            waiting = sum(len(p.texts) for p in self._queues[config])
            remaining = self._queues[config][0].arrived + self.max_wait - time.monotonic()
            if waiting >= self.max_batch or remaining <= 0:
                return config
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout=remaining)
            except asyncio.TimeoutError:
                pass

    def _take(self, config: SearchConfig) -> list[_Pending]:
        """Whole requests from the front of `config`'s queue, up to `max_batch` sentences (at least one request)."""
        queue = self._queues[config]
        group, sentences = [], 0
        while queue and (not group or sentences + len(queue[0].texts) <= self.max_batch):
            sentences += len(queue[0].texts)
            group.append(queue.pop(0))
        if not queue:
            del self._queues[config]
        return group

    async def _decode_group(self, config: SearchConfig, group: list[_Pending]) -> None:
        texts = [text for pending in group for text in pending.texts]
        try:
            results = await self.run_in_worker(self._decode_quietly, texts, config)
        except Exception as error:  # every request of the batch learns why
            for pending in group:
                if not pending.future.done():
                    pending.future.set_exception(error)
            return
        start = 0
        for pending in group:
            if not pending.future.done():  # a client that went away leaves a cancelled future
                pending.future.set_result(results[start : start + len(pending.texts)])
            start += len(pending.texts)

    def _decode_quietly(self, texts: list[str], config: SearchConfig) -> list:
        """Decode in the worker thread; unknown-token warnings are the client's business, not the log's."""
        self.batches_decoded += 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.decode(texts, config)
