"""Broken files nobody wrote by hand: whatever the bytes, loading gives a Config or a
ConfigError whose every problem has a line and column, and the command exits 1 without a
traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import main
from reconciler.config.loader import load_config, load_config_text
from reconciler.errors import ConfigError
from tests.conftest import BASE_YAML

YAML_NOISE = [*":-[]{}#&*!|>'\"%@`,? \t\n\r", "\x00", "\x07", "\x85", "\u2028", "é", "0", "a"]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(raw: bytes) -> None:
    """The property: a Config, or a ConfigError with a position for every problem."""
    try:
        load_config_text(raw, "fuzz.yaml")
    except ConfigError as err:
        assert err.problems
        lines = str(err).splitlines()
        assert lines[-1] in {f"{len(err.problems)} error in fuzz.yaml"} | {
            f"{len(err.problems)} errors in fuzz.yaml"
        }
        for problem, line in zip(err.problems, lines, strict=False):
            assert problem.line is not None and problem.line >= 1, line
            assert problem.column is not None and problem.column >= 1, line
            assert line.startswith(f"fuzz.yaml:{problem.line}:{problem.column}: "), line
            assert problem.message, line


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """The shipped example with a few characters deleted, inserted or replaced."""
    text = BASE_YAML
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 12))
        insert = draw(st.text(st.sampled_from(YAML_NOISE), max_size=4))
        text = text[:at] + insert + text[at + cut :]
    return text.encode("utf-8")


@FUZZ
@given(mutated())
def test_mutated_files_never_crash(raw: bytes) -> None:
    check(raw)


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(raw: bytes) -> None:
    check(raw)


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.dates().map(str)
    | st.sampled_from(["no", "on", "0123", "1e3", "~", "Alice", "/x/", "a*/", "@"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)
PATHS = [
    ("version",),
    ("account_id",),
    ("region",),
    ("bucket",),
    ("bucket", "name"),
    ("bucket", "encryption"),
    ("iam_path",),
    ("collaborators",),
    ("collaborators", 0),
    ("collaborators", 0, "id"),
    ("collaborators", 1, "prefix"),
    ("collaborators", 1, "access"),
    ("collaborators", 2, "principal"),
    ("collaborators", 2, "access_point"),
    ("collaborators", 0, "unknown"),
]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PATHS), VALUES), min_size=1, max_size=4))
def test_wrong_values_anywhere_never_crash(changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    """Well-formed YAML with wrong values: exercises every schema and semantic message."""
    data = yaml.safe_load(BASE_YAML)
    for path, value in changes:
        target = data
        try:
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    check(yaml.safe_dump(data, allow_unicode=True).encode("utf-8"))


@settings(max_examples=40, deadline=None)
@given(mutated())
def test_the_command_exits_0_or_1_without_traceback(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "collaborators.yaml"
        path.write_bytes(raw)
        with pytest.raises(SystemExit) as info:
            main(["validate", "-c", str(path)])
        assert info.value.code in {0, 1}


@pytest.mark.parametrize(
    "raw",
    [
        b"a: " + b"[" * 10_000 + b"]" * 10_000,
        b"x: " + b"&a [" * 50 + b"]" * 50,
        b"a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\n" * 3,
        b"version: 1\n" + b"#" * (6 * 1024 * 1024),
        b"a: 1" + b"0" * 5000,
        b"\xff\xfeu\x00n\x00i\x00",
        b"key: !!python/object/apply:os.system ['true']\n",
    ],
    ids=["deep", "anchored-deep", "alias-bomb", "huge", "long-int", "utf16", "python-tag"],
)
def test_hostile_files_are_refused_with_a_position(raw: bytes) -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text(raw, "fuzz.yaml")
    for problem in info.value.problems:
        assert problem.line is not None and problem.column is not None


def test_oversized_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "collaborators.yaml"
    with path.open("wb") as handle:
        handle.truncate(6 * 1024 * 1024)  # sparse: 6 MiB of NUL bytes
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).splitlines()[0] == (
        f"{path}:1:1: the file is 6,291,456 bytes; the limit is 5,242,880 bytes "
        "(is this the right file?)"
    )
