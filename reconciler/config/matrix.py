"""`reconcile matrix`: one GitHub Actions matrix entry per desired-state file (share).

Each entry names the file and what a workflow needs to pick the account's role and label the
job: `config`, `account_id`, `region`, `bucket` and a short `name`. Reading is deliberately
light (only those three keys): a file with mistakes still gets its job, where `validate` reports
them, so one broken share never hides the others.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_COLLABORATORS_KEY = re.compile(r"^collaborators:", re.MULTILINE)
# changes to these never change what a plan does, so they do not make every share run
DOC_SUFFIXES = (".md", ".txt")


def entries(files: Sequence[Path]) -> list[dict[str, str]]:
    """One entry per file, in the order given (callers give a stable, sorted order)."""
    names = _short_names(files)
    return [
        {"name": name, "config": _posix(path), **_facts(path)}
        for path, name in zip(files, names, strict=True)
    ]


def changed_shares(files: Sequence[Path], changed: Iterable[Path]) -> list[Path]:
    """The share files a change touched, or all of them when anything else changed (a shared
    setting, a workflow, the tool's version pin): only documentation is ignored. `changed`
    holds absolute, resolved paths."""
    shares = {path.resolve() for path in files}
    touched = set()
    for path in changed:
        if path in shares:
            touched.add(path)
        elif path.suffix.lower() not in DOC_SUFFIXES:
            return list(files)
    return [path for path in files if path.resolve() in touched]


def _facts(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {key: "" for key in ("account_id", "region", "bucket")}
    # The keys needed usually come before the (long) collaborators list: read only that part
    # first, and the whole file when something is missing there.
    head = _COLLABORATORS_KEY.split(text, maxsplit=1)[0]
    facts = _read_facts(head)
    return facts if all(facts.values()) or head == text else _read_facts(text)


def _read_facts(text: str) -> dict[str, str]:
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError:
        data = None
    data = data if isinstance(data, dict) else {}
    bucket = data.get("bucket")
    bucket_name = bucket.get("name") if isinstance(bucket, dict) else None
    return {
        "account_id": _text(data.get("account_id")),
        "region": _text(data.get("region")),
        "bucket": _text(bucket_name),
    }


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _short_names(files: Sequence[Path]) -> list[str]:
    """The file's stem (`shares/cardiology.yaml` -> `cardiology`); where two stems are the same,
    the path without its suffix, `/` turned into `-`."""
    stems = Counter(path.stem for path in files)
    names = []
    for path in files:
        raw = (
            path.stem
            if stems[path.stem] == 1
            else "-".join(PurePosixPath(_posix(path.with_suffix(""))).parts)
        )
        names.append(_UNSAFE_NAME.sub("-", raw).strip("-.") or "share")
    return names


def _posix(path: Path) -> str:
    return path.as_posix()
