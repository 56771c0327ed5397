"""The request batcher, over a stub decode function: grouping, limits, settings kept apart."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from seq2seq.search.config import SearchConfig
from seq2seq.serving.batcher import Batcher

GREEDY, BEAM = SearchConfig(), SearchConfig(beam=2)


class StubDecode:
    """Upper-cases texts; records each call's texts, settings and thread."""

    def __init__(self, seconds: float = 0.0):
        self.seconds = seconds
        self.calls: list[tuple[list[str], SearchConfig, str]] = []

    def __call__(self, texts, config):
        self.calls.append((list(texts), config, threading.current_thread().name))
        time.sleep(self.seconds)
        return [f"{text.upper()}/{config.beam}" for text in texts]


def run_requests(batcher, requests):
    """Send `(texts, config)` requests at once; their results in order."""

    async def send_all():
        try:
            return await asyncio.gather(*(batcher.translate(texts, config) for texts, config in requests))
        finally:
            await batcher.close()

    return asyncio.run(send_all())


def test_concurrent_requests_share_one_decode_and_get_their_own_results():
    decode = StubDecode()
    requests = [([f"a{i}", f"b{i}"], GREEDY) for i in range(5)]
    results = run_requests(Batcher(decode, max_batch=64, max_wait_ms=50), requests)
    assert results == [[f"A{i}/1", f"B{i}/1"] for i in range(5)]
    assert len(decode.calls) == 1 and len(decode.calls[0][0]) == 10


def test_requests_with_different_settings_are_never_decoded_together():
    decode = StubDecode()
    requests = [(["x"], GREEDY), (["y"], BEAM), (["z"], GREEDY), (["w"], BEAM)]
    results = run_requests(Batcher(decode, max_wait_ms=50), requests)
    assert results == [["X/1"], ["Y/2"], ["Z/1"], ["W/2"]]
    assert sorted((texts, config.beam) for texts, config, _ in decode.calls) == [(["x", "z"], 1), (["y", "w"], 2)]


def test_a_batch_holds_at_most_max_batch_sentences_of_whole_requests():
    decode = StubDecode()
    requests = [(["a", "b"], GREEDY), (["c", "d"], GREEDY), (["e"], GREEDY)]
    results = run_requests(Batcher(decode, max_batch=3, max_wait_ms=50), requests)
    assert results == [["A/1", "B/1"], ["C/1", "D/1"], ["E/1"]]
    assert [texts for texts, _, _ in decode.calls] == [["a", "b"], ["c", "d", "e"]]


def test_without_batching_each_request_is_decoded_alone_in_the_worker_thread():
    decode = StubDecode()
    results = run_requests(Batcher(decode, batching=False), [(["a"], GREEDY), (["b"], GREEDY)])
    assert results == [["A/1"], ["B/1"]]
    assert len(decode.calls) == 2
    assert all(thread.startswith("seq2seq-decode") for _, _, thread in decode.calls)


def test_requests_arriving_during_a_decode_gather_into_the_next_batch():
    decode = StubDecode(seconds=0.2)

    async def scenario():
        batcher = Batcher(decode, max_wait_ms=0)
        first = asyncio.ensure_future(batcher.translate(["first"], GREEDY))
        await asyncio.sleep(0.05)  # the first decode is running now
        later = [batcher.translate([f"later{i}"], GREEDY) for i in range(4)]
        results = await asyncio.gather(first, *later)
        await batcher.close()
        return results

    results = asyncio.run(scenario())
    assert results[0] == ["FIRST/1"]
    assert [texts for texts, _, _ in decode.calls] == [["first"], [f"later{i}" for i in range(4)]]


def test_a_decode_error_reaches_every_request_of_its_batch():
    def failing(texts, config):
        raise ValueError("boom")

    async def scenario():
        batcher = Batcher(failing, max_wait_ms=20)
        results = await asyncio.gather(batcher.translate(["a"], GREEDY), batcher.translate(["b"], GREEDY), return_exceptions=True)
        await batcher.close()
        return results

    assert all(isinstance(result, ValueError) for result in asyncio.run(scenario()))


def test_the_event_loop_stays_responsive_while_decoding():
    decode = StubDecode(seconds=0.3)

    async def scenario():
        batcher = Batcher(decode, max_wait_ms=0)
        translation = asyncio.ensure_future(batcher.translate(["a"], GREEDY))
        started = time.monotonic()
        await asyncio.sleep(0.01)
        ticks = 0
        while not translation.done():
            await asyncio.sleep(0.01)
            ticks += 1
        await batcher.close()
        return ticks, time.monotonic() - started

    ticks, seconds = asyncio.run(scenario())
    assert seconds >= 0.25 and ticks >= 10


@pytest.mark.parametrize("max_batch", [1, 2])
def test_small_max_batch_still_serves_every_request(max_batch):
    decode = StubDecode()
    requests = [([f"t{i}"], GREEDY) for i in range(5)]
    assert run_requests(Batcher(decode, max_batch=max_batch, max_wait_ms=10), requests) == [[f"T{i}/1"] for i in range(5)]
