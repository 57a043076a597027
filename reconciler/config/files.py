"""Which desired-state files a command reads: files as given, folders expanded.

A config repo may keep one file per share (bucket), e.g. `shares/*.yaml`. A folder stands for
every `.yaml`/`.yml` file below it, in a stable (sorted) order, skipping hidden files and folders
(`.github/`, the sandbox's state, editors' files).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

SUFFIXES = (".yaml", ".yml")


def expand(paths: Iterable[str]) -> list[Path]:
    """Files and folders -> the files, each once, in order (folders' files sorted). A path that
    does not exist is kept as it is: loading it reports that it cannot be read."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        found.extend(_yaml_files(path) if path.is_dir() else [path])
    return list(dict.fromkeys(found))


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.rglob("*")
        if path.suffix in SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )
