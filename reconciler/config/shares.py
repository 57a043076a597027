"""Loading several desired-state files (shares) at once, on every core.

Each file is validated on its own (YAML, schema, semantic rules, policy sizes): independent,
CPU-bound work, so with many files it runs in worker processes, one per core. The results come
back in the order of the files, exactly as a serial run would give them.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from reconciler.config.cross_file import Share
from reconciler.config.loader import load_config_source
from reconciler.errors import ConfigError, ConfigProblem

# below this many files, starting worker processes costs more than it saves
PARALLEL_FROM = 4

Loaded = Share | tuple[str, list[ConfigProblem]]


def load_shares(files: Sequence[Path]) -> list[Loaded]:
    """Per file, in order: the Share, or (file name, its problems)."""
    workers = min(os.cpu_count() or 1, len(files))
    if len(files) < PARALLEL_FROM or workers < 2 or "fork" not in _methods():
        return [_load(path) for path in files]
    context = multiprocessing.get_context("fork")  # the parent's imports are reused, not redone
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(_load, files, chunksize=max(1, len(files) // (workers * 4))))


def _load(path: Path) -> Loaded:
    try:
        return Share(*load_config_source(path))
    except ConfigError as err:  # plain values: an exception with its own __init__ may not pickle
        return (err.file, list(err.problems))


def _methods() -> list[str]:
    return multiprocessing.get_all_start_methods()
