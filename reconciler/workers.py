"""A bounded pool of worker threads shared by the reader and the executor.

AWS calls spend their time waiting on the network, so threads overlap them well; the bound
keeps the request rate polite (botocore's retry mode backs off if AWS throttles anyway) and
matches the HTTP connection pool of each client (see reconciler/aws/session.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

DEFAULT_WORKERS = 8
MAX_WORKERS = 64

T = TypeVar("T")


@contextmanager
def worker_pool(workers: int, name: str) -> Iterator[ThreadPoolExecutor]:
    """A thread pool that, when left by an exception, drops the work not yet started."""
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be between 1 and {MAX_WORKERS}, not {workers}")
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def gather(futures: Iterable[Future[T]]) -> list[T]:
    """Results in submission order; on the first failure the rest are cancelled and it raises."""
    pending = list(futures)
    try:
        return [future.result() for future in pending]
    except BaseException:
        for future in pending:
            future.cancel()
        raise
