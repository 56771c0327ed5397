"""A progress bar on the terminal for long translations: sentences done and sentences per second."""

from __future__ import annotations

import contextlib
import sys
import time


def shows_progress(count: int, batch_size: int) -> bool:
    """Whether a translation of `count` texts shows a bar: more than one batch, and stderr is a terminal."""
    return count > batch_size and sys.stderr.isatty()


@contextlib.contextmanager
def translation_progress(total: int, enabled: bool = True):
    """Yield `advance(count)` for a bar on standard error (gone when done), or None when not `enabled`."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (
        TextColumn("translating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} sentences/s"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task("translate", total=total, rate="-")
        started, done = time.monotonic(), 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            bar.update(task, advance=count, rate=f"{done / max(time.monotonic() - started, 1e-9):,.0f}")

        yield advance
