"""Safe YAML loading that keeps the line and column of every node."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from reconciler.errors import ConfigProblem

Path = tuple[str | int, ...]


@dataclass
class SourceDocument:
    """Plain data (dicts, lists, scalars) plus where each path starts in the file (1-based)."""

    file: str
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path) -> tuple[int | None, int | None]:
        """Position of the deepest known node on the path."""
        for end in range(len(path), -1, -1):
            pos = self.positions.get(tuple(path[:end]))
            if pos is not None:
                return pos
        return None, None

    def problem(self, path: Path, message: str) -> ConfigProblem:
        line, column = self.where(path)
        return ConfigProblem(self.file, line, column, format_path(path), message)


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse(text: str, file: str) -> SourceDocument:
    """Parse one YAML document with the safe loader's resolver; raise ConfigProblem on syntax."""
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        reason = err.problem or err.context or "invalid YAML"
        raise _SyntaxProblem(
            ConfigProblem(file, line, column, "", f"YAML syntax: {reason}")
        ) from None
    except yaml.YAMLError as err:
        raise _SyntaxProblem(ConfigProblem(file, None, None, "", f"YAML syntax: {err}")) from None
    doc = SourceDocument(file=file, data=None)
    if node is None:
        return doc
    doc.data = _convert(node, (), doc)
    return doc


def _compose(text: str) -> yaml.Node | None:
    """libyaml's parser when PyYAML has it (about 5x faster on a 10,000-collaborator file).
    The node tree and positions are the same; on an error the pure-Python parser runs again so
    that the message is the one it gives."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.compose(text, Loader=fast)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


class _SyntaxProblem(Exception):
    def __init__(self, problem: ConfigProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


SyntaxProblem = _SyntaxProblem

_constructor = yaml.SafeLoader(stream="")
_STR_TAG = "tag:yaml.org,2002:str"


def _convert(node: yaml.Node, path: Path, doc: SourceDocument) -> Any:
    doc.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(key_node)
            key = key if isinstance(key, str) else str(key)
            child = (*path, key)
            doc.key_positions[child] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            result[key] = _convert(value_node, child, doc)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), doc) for i, item in enumerate(node.value)]
    return _construct(node)


def _construct(node: yaml.Node) -> Any:
    if node.tag == _STR_TAG:
        return node.value  # the common case, without the constructor's per-node bookkeeping
    return _constructor.construct_object(node, deep=True)
