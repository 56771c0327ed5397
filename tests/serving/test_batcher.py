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


def test_a_slice_holds_at_most_max_batch_sentences_and_a_larger_request_is_split():
    decode = StubDecode()
    requests = [(["a", "b"], GREEDY), (["c", "d"], GREEDY), (["e"], GREEDY)]
    results = run_requests(Batcher(decode, max_batch=3, max_wait_ms=50), requests)
    assert results == [["A/1", "B/1"], ["C/1", "D/1"], ["E/1"]]
    first, *rest = [texts for texts, _, _ in decode.calls]
    assert first == ["a", "b", "c"] and sum(rest, []) == ["e", "d"]  # the split request waits its turn


def test_slices_are_cut_by_work_as_well_as_by_sentences():
    decode = StubDecode()

    async def scenario():
        batcher = Batcher(decode, max_batch=64, max_wait_ms=0, slice_work=6)
        result = await batcher.translate(["p", "q", "r", "s", "t"], GREEDY, costs=[3, 3, 3, 1, 9])
        await batcher.close()
        return result

    assert asyncio.run(scenario()) == ["P/1", "Q/1", "R/1", "S/1", "T/1"]
    assert [texts for texts, _, _ in decode.calls] == [["p", "q"], ["r", "s"], ["t"]]  # one over the slice goes alone


def test_other_requests_are_served_between_the_slices_of_a_large_one():
    decode = StubDecode()

    async def scenario():
        batcher = Batcher(decode, max_wait_ms=0, slice_work=2)
        large, small = batcher.translate([f"a{i}" for i in range(6)], GREEDY), batcher.translate(["b"], BEAM)
        results = await asyncio.gather(large, small)
        await batcher.close()
        return results

    assert asyncio.run(scenario()) == [[f"A{i}/1" for i in range(6)], ["B/2"]]
    assert [texts for texts, _, _ in decode.calls] == [["a0", "a1"], ["b"], ["a2", "a3"], ["a4", "a5"]]


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


def test_between_two_slices_of_a_large_request_others_get_as_much_decode_time_as_the_slice_took():
    calls = []

    def decode(texts, config):
        calls.append(texts[0])
        time.sleep(0.2 if texts[0].startswith("a") else 0.0)  # the large request's slices are slow
        return texts

    async def scenario():
        batcher = Batcher(decode, max_wait_ms=0, slice_work=1)
        large = asyncio.ensure_future(batcher.translate(["a0", "a1", "a2"], GREEDY))
        await asyncio.sleep(0.05)
        for index in range(5):  # one client asking again as soon as it is answered
            await batcher.translate([f"b{index}"], BEAM)
        await large
        await batcher.close()

    asyncio.run(scenario())
    assert calls == ["a0", "b0", "b1", "b2", "b3", "b4", "a1", "a2"]


class PoisonedDecode(StubDecode):
    """Fails any batch holding "poison", as a tokenizer fails on text it cannot take."""

    def __call__(self, texts, config):
        if "poison" in texts:
            self.calls.append((list(texts), config, "failed"))
            raise RuntimeError("Unable to cast Python instance\n(40 more lines)")
        return super().__call__(texts, config)


def test_a_failing_text_fails_only_its_own_request_and_the_batch_is_retried_without_it():
    decode = PoisonedDecode()

    async def scenario():
        batcher = Batcher(decode, max_wait_ms=50)
        requests = [batcher.translate(texts, GREEDY) for texts in (["a"], ["b", "poison"], ["c"])]
        results = await asyncio.gather(*requests, return_exceptions=True)
        await batcher.close()
        return results

    good, poisoned, other = asyncio.run(scenario())
    assert good == ["A/1"] and other == ["C/1"]
    assert isinstance(poisoned, RuntimeError) and "Unable to cast" in str(poisoned)
    assert [texts for texts, _, _ in decode.calls] == [["a", "b", "poison", "c"], ["a"], ["b", "poison"], ["c"]]


def test_a_cancelled_request_is_not_decoded_further():
    decode = StubDecode(seconds=0.1)

    async def scenario():
        batcher = Batcher(decode, max_wait_ms=0, slice_work=1)
        request = asyncio.ensure_future(batcher.translate([f"t{i}" for i in range(10)], GREEDY))
        await asyncio.sleep(0.25)
        request.cancel()
        await asyncio.sleep(0.4)
        later = await batcher.translate(["after"], GREEDY)  # the worker is free again
        await batcher.close()
        return later

    assert asyncio.run(scenario()) == ["AFTER/1"]
    decoded = [texts for texts, _, _ in decode.calls]
    assert decoded[-1] == ["after"] and 1 <= len(decoded) - 1 <= 4  # of 10 slices, only those begun before the cancel


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
    results = run_requests(Batcher(decode, max_batch=max_batch, max_wait_ms=10), requests)
    assert results == [[f"T{i}/1"] for i in range(5)]
