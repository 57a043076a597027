"""libyaml (when PyYAML has it) and the pure-Python parser give the same data, positions and
syntax messages: the fast path changes speed only."""

from __future__ import annotations

import pytest
import yaml

from reconciler.config.yaml_source import SourceDocument, SyntaxProblem, parse
from tests.conftest import BASE_YAML

pytestmark = pytest.mark.skipif(
    not getattr(yaml, "__with_libyaml__", False), reason="PyYAML built without libyaml"
)

ODD = BASE_YAML + "settings: {n: 1, f: 1.5, b: yes, z: ~, d: 2024-01-01, q: '007'}\n"


def both(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[SourceDocument, SourceDocument]:
    fast = parse(text, "c.yaml")
    with monkeypatch.context() as m:
        m.delattr(yaml, "CSafeLoader")
        slow = parse(text, "c.yaml")
    return fast, slow


def test_same_data_and_positions(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = both(ODD, monkeypatch)
    assert fast.data == slow.data
    assert fast.positions == slow.positions and fast.key_positions == slow.key_positions
    assert fast.data["settings"]["q"] == "007" and fast.data["settings"]["n"] == 1
    assert fast.where(("collaborators", 1, "prefix")) == (14, 13)  # "    prefix: Bob/"


@pytest.mark.parametrize("bad", ["a: [1, 2\n", "a: b\n c: d\n", "- a\nb: c\n", "a: 'x\n"])
def test_same_syntax_message(bad: str, monkeypatch: pytest.MonkeyPatch) -> None:
    messages = []
    for strip in (False, True):
        with monkeypatch.context() as m:
            if strip:
                m.delattr(yaml, "CSafeLoader")
            with pytest.raises(SyntaxProblem) as info:
                parse(bad, "c.yaml")
        messages.append(str(info.value))
    assert messages[0] == messages[1]
