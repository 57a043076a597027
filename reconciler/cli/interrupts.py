"""SIGINT/SIGTERM during apply: finish the AWS call in flight, then stop scheduling new ones."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click


class StopFlag:
    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal: int | None = None

    def __call__(self) -> bool:
        return self._event.is_set()

    def set(self, signum: int) -> None:
        self.signal = signum
        self._event.set()

    @property
    def exit_code(self) -> int:
        return 128 + (self.signal or signal.SIGINT)


@contextmanager
def stop_on_signals(flag: StopFlag | None = None) -> Iterator[StopFlag]:
    """A second Ctrl-C while stopping falls back to the default (immediate) behaviour."""
    flag = flag or StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if flag():
            raise KeyboardInterrupt
        name = signal.Signals(signum).name
        click.echo(f"{name} received: finishing the call in flight, then stopping", err=True)
        flag.set(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
