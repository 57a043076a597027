"""The audit trail as a JSON Lines file: records are only ever appended (O_APPEND), one line
each, flushed to disk before apply reports success."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from reconciler.apply.audit import to_line
from reconciler.errors import ReconcilerError


class JsonLinesLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.location = str(self.path)

    def check(self) -> None:
        folder = self.path.parent
        if not folder.is_dir():
            raise ReconcilerError(
                f"the audit log's folder {folder} does not exist: create it, or fix "
                "--audit-log / audit.log"
            )
        if self.path.is_dir():
            raise ReconcilerError(f"the audit log {self.path} is a folder: name a file in it")
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise ReconcilerError(f"the audit log {self.path} is not writable")
        if not self.path.exists() and not os.access(folder, os.W_OK):
            raise ReconcilerError(f"cannot create the audit log in {folder}: not writable")

    def append(self, record: Mapping[str, Any]) -> str:
        data = (to_line(record) + "\n").encode()
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as err:
            raise ReconcilerError(f"cannot append to the audit log {self.path}: {err}") from err
        return self.location

    def read(self) -> list[str]:
        try:
            return self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        except OSError as err:
            raise ReconcilerError(f"cannot read the audit log {self.path}: {err}") from err

    def newest_first(self) -> Iterator[str]:
        return reversed(self.read())
