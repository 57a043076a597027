"""Safe YAML loading that keeps the line and column of every node.

Layer 1 of validation: bytes -> text -> nodes -> plain data. Refuses what a hand-edited
collaborators.yaml never needs and what could hide a mistake: duplicate keys (PyYAML keeps the
last one silently), anchors and aliases (alias bombs, values changed far from where they are
read), explicit tags, complex keys, deep nesting, huge files, non-UTF-8 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from reconciler.errors import ConfigError, ConfigProblem

Path = tuple[str | int, ...]

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 32
_PLAIN_TAGS = {
    "tag:yaml.org,2002:" + name
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
}


@dataclass(frozen=True)
class Scalar:
    """How a scalar was written: its source text and whether it was quoted."""

    text: str
    plain: bool


@dataclass
class SourceDocument:
    """Plain data (dicts, lists, scalars) plus where each path starts in the file (1-based)."""

    file: str
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    scalars: dict[Path, Scalar] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)
    unreadable: set[Path] = field(default_factory=set)

    def where(self, path: Path) -> tuple[int | None, int | None]:
        """Position of the key that holds the path's value (else the value, else its parent)."""
        for end in range(len(path), -1, -1):
            prefix = tuple(path[:end])
            pos = self.key_positions.get(prefix) or self.positions.get(prefix)
            if pos is not None:
                return pos
        return None, None

    def line(self, path: Path) -> int | None:
        return self.where(path)[0]

    def problem(self, path: Path, message: str) -> ConfigProblem:
        line, column = self.where(path)
        return ConfigProblem(self.file, line, column, format_path(path), message)


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def fail(file: str, line: int | None, column: int | None, message: str) -> ConfigError:
    return ConfigError(file, [ConfigProblem(file, line, column, "", message)])


def decode(raw: bytes, file: str) -> str:
    """UTF-8 text of a file under the size cap, or a ConfigError saying where it went wrong."""
    if len(raw) > MAX_BYTES:
        raise fail(
            file,
            1,
            1,
            f"the file is {len(raw):,} bytes; the limit is {MAX_BYTES:,} bytes "
            "(is this the right file?)",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line, column = _line_col(raw[: err.start].decode("utf-8", "replace"))
        byte = raw[err.start : err.start + 1].hex()
        raise fail(
            file, line, column, f"byte 0x{byte} is not UTF-8: save the file as UTF-8 text"
        ) from None
    return text.removeprefix("\ufeff")


def _line_col(before: str) -> tuple[int, int]:
    line = before.count("\n") + 1
    return line, len(before) - (before.rfind("\n") + 1) + 1


def parse(text: str, file: str) -> SourceDocument:
    """One YAML document with positions; ConfigError for what cannot be read at all."""
    loader = _Loader(file)
    try:
        loader.read(text)
        node = loader.get_single_node()
    except _Refused as err:
        raise ConfigError(file, [*loader.refusals, err.problem]) from None
    except yaml.MarkedYAMLError as err:
        raise ConfigError(file, [*loader.refusals, _syntax_problem(err, file)]) from None
    except yaml.YAMLError as err:
        raise ConfigError(file, [*loader.refusals, _reader_problem(err, file, text)]) from None
    finally:
        loader.dispose()
    if loader.refusals:
        raise ConfigError(file, loader.refusals)
    doc = SourceDocument(file=file, data=None)
    if node is not None:
        doc.data = _Converter(doc).convert(node, ())
    return doc


_SYNTAX_HINTS = (
    ("mapping values are not allowed", "check the indentation, or quote a value containing ': '"),
    ("expected <block end>", "this line's indentation does not match the lines above"),
    ("could not find expected ':'", "each line of a mapping needs 'key: value'"),
    ("end of stream", "a quote or bracket is never closed"),
)


def _syntax_problem(err: yaml.MarkedYAMLError, file: str) -> ConfigProblem:
    mark = err.problem_mark or err.context_mark
    if "could not find expected ':'" in (err.problem or "") and err.context_mark:
        mark = err.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return ConfigProblem(file, line, column, "", f"YAML syntax: {_syntax_reason(err)}")


def _syntax_reason(err: yaml.MarkedYAMLError) -> str:
    problem = err.problem or "invalid YAML"
    if "expected a single document" in (err.context or ""):
        return "a second document ('---') starts here: the file must hold exactly one"
    if "found character '\\t'" in problem:
        return "a tab character here: indent with spaces"
    if err.context and err.context_mark:
        problem += f" ({err.context} on line {err.context_mark.line + 1})"
    hint = next((h for key, h in _SYNTAX_HINTS if key in problem), None)
    return f"{problem}: {hint}" if hint else problem


def _reader_problem(err: yaml.YAMLError, file: str, text: str) -> ConfigProblem:
    position = getattr(err, "position", None)
    line, column = _line_col(text[:position]) if isinstance(position, int) else (1, 1)
    character = getattr(err, "character", None)
    if isinstance(character, int):
        reason = f"character U+{character:04X} is not allowed in YAML: remove it"
    else:
        reason = str(err)
    return ConfigProblem(file, line, column, "", reason)


class _Refused(Exception):
    def __init__(self, problem: ConfigProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


_NO_ANCHORS = "anchors and aliases are not allowed; write the value out in full"


class _Loader(yaml.SafeLoader):
    """The safe loader's composer, refusing anchors, aliases and deep nesting."""

    def __init__(self, file: str) -> None:
        super().__init__("")
        self.file = file
        self.refusals: list[ConfigProblem] = []
        self.depth = 0

    def read(self, text: str) -> None:
        """Start reading text (PyYAML's Reader checks for forbidden characters here)."""
        yaml.reader.Reader.__init__(self, text)

    def _at(self, mark: Any, message: str) -> ConfigProblem:
        return ConfigProblem(self.file, mark.line + 1, mark.column + 1, "", message)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            self.get_event()  # type: ignore[no-untyped-call]
            self.refusals.append(
                self._at(event.start_mark, f"alias *{event.anchor}: {_NO_ANCHORS}")
            )
            return yaml.ScalarNode("tag:yaml.org,2002:null", "")
        if getattr(event, "anchor", None) is not None:
            self.refusals.append(
                self._at(event.start_mark, f"anchor &{event.anchor}: {_NO_ANCHORS}")
            )
        if self.depth >= MAX_DEPTH:
            message = f"nested more than {MAX_DEPTH} levels deep: check the indentation"
            raise _Refused(self._at(event.start_mark, message))
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Converter:
    """Nodes -> plain data, recording positions, quoting and every problem on the way."""

    def __init__(self, doc: SourceDocument) -> None:
        self.doc = doc
        self.constructor = yaml.SafeLoader("")

    def convert(self, node: yaml.Node, path: Path) -> Any:
        self.doc.positions[path] = _position(node)
        if node.tag not in _PLAIN_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self._unreadable(node, path, f"YAML tag {tag} is not supported: remove it")
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node, path)

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        self.doc.scalars[path] = Scalar(text=node.value, plain=node.style is None)
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as err:
            reason = getattr(err, "problem", None) or str(err)
            self._unreadable(
                node, path, f"cannot read {node.value!r} ({reason}): quote it to keep it as text"
            )
            return None

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_node, path, "a key must be plain text, not a list or mapping")
                continue
            key = key_node.value
            child = (*path, key)
            if key in result:
                first = self.doc.key_positions[child][0]
                self._problem(
                    key_node,
                    child,
                    f"duplicate key {key!r} (first on line {first}): YAML would silently keep "
                    "only the last value; remove one",
                )
                continue
            self.doc.key_positions[child] = _position(key_node)
            result[key] = self.convert(value_node, child)
        return result

    def _unreadable(self, node: yaml.Node, path: Path, message: str) -> None:
        self.doc.unreadable.add(path)
        self._problem(node, path, message)

    def _problem(self, node: yaml.Node, path: Path, message: str) -> None:
        line, column = _position(node)
        self.doc.problems.append(
            ConfigProblem(self.doc.file, line, column, format_path(path), message)
        )


def _position(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1
