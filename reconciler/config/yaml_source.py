"""Safe YAML loading that keeps the line and column of every node.

Layer 1 of validation: bytes -> text -> YAML events -> plain data. Refuses what a hand-edited
collaborators.yaml never needs and what could hide a mistake: duplicate keys (PyYAML keeps the
last one silently), anchors and aliases (alias bombs, values changed far from where they are
read), explicit tags, complex keys, deep nesting, huge files, non-UTF-8 bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
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


def check_size(size: int, file: str) -> None:
    if size > MAX_BYTES:
        raise fail(
            file,
            1,
            1,
            f"the file is {size:,} bytes; the limit is {MAX_BYTES:,} bytes "
            "(is this the right file?)",
        )


def decode(raw: bytes, file: str) -> str:
    """UTF-8 text of a file under the size cap, or a ConfigError saying where it went wrong."""
    check_size(len(raw), file)
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
    """One YAML document with positions; ConfigError for what cannot be read at all.

    Events come from libyaml when PyYAML has it (about 15 times faster on large files); on any
    YAML error the file is read again with PyYAML's pure-Python parser, so messages and
    positions are the same on every installation.
    """
    if _FAST_LOADER is not None:
        try:
            return _Builder(file).build(yaml.parse(text, Loader=_FAST_LOADER))
        except yaml.YAMLError:
            pass
    builder = _Builder(file)
    try:
        return builder.build(yaml.parse(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as err:
        raise ConfigError(file, [*builder.refusals, _syntax_problem(err, file)]) from None
    except yaml.YAMLError as err:
        raise ConfigError(file, [*builder.refusals, _reader_problem(err, file, text)]) from None


_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


_SYNTAX_HINTS = (
    ("mapping values are not allowed", "check the indentation, or quote a value containing ': '"),
    ("expected <block end>", "this line's indentation does not match the lines above"),
    ("could not find expected ':'", "each line of a mapping needs 'key: value'"),
    ("end of stream", "a quote or bracket is never closed"),
    ("expected ',' or ']'", "a [ list is not closed with ]"),
    ("expected ',' or '}'", "a { mapping is not closed with }"),
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


_NO_ANCHORS = "anchors and aliases are not allowed; write the value out in full"
_COLLECTIONS: dict[type, type[yaml.Node]] = {
    yaml.MappingStartEvent: yaml.MappingNode,
    yaml.SequenceStartEvent: yaml.SequenceNode,
}


class _Builder:
    """YAML events -> plain data, recording positions, quoting and every problem on the way.

    Builds the data straight from parser events (no node graph), so an alias can never be
    expanded: anchors and aliases are refused, as are explicit tags, complex keys, duplicate
    keys and nesting deeper than MAX_DEPTH.
    """

    def __init__(self, file: str) -> None:
        self.doc = SourceDocument(file=file, data=None)
        self.refusals: list[ConfigProblem] = []
        self.resolver = yaml.resolver.Resolver()
        self.constructor = yaml.constructor.SafeConstructor()
        self.events: Iterator[Any] = iter(())
        self.pending: Any = None

    def build(self, events: Iterable[Any]) -> SourceDocument:
        self.events = iter(events)
        self._next()  # StreamStartEvent
        if isinstance(self._next(), yaml.DocumentStartEvent):
            self.doc.data = self._node((), 0)
            self._next()  # DocumentEndEvent
            extra = self._next()
            if isinstance(extra, yaml.DocumentStartEvent):
                second = "a second document ('---') starts here: the file must hold exactly one"
                self.refusals.append(self._at(extra, f"YAML syntax: {second}"))
        if self.refusals:
            raise ConfigError(self.doc.file, [*self.doc.problems, *self.refusals])
        return self.doc

    def _next(self) -> Any:
        event, self.pending = (self.pending, None) if self.pending is not None else (None, None)
        return event if event is not None else next(self.events)

    def _peek(self) -> Any:
        if self.pending is None:
            self.pending = next(self.events)
        return self.pending

    def _at(self, event: Any, message: str, path: Path = ()) -> ConfigProblem:
        line, column = _position(event)
        return ConfigProblem(self.doc.file, line, column, format_path(path), message)

    def _node(self, path: Path, depth: int) -> Any:
        event = self._next()
        if isinstance(event, yaml.AliasEvent):
            self.refusals.append(self._at(event, f"alias *{event.anchor}: {_NO_ANCHORS}"))
            return None
        if event.anchor is not None:
            self.refusals.append(self._at(event, f"anchor &{event.anchor}: {_NO_ANCHORS}"))
        if depth >= MAX_DEPTH:
            deep = f"nested more than {MAX_DEPTH} levels deep: check the indentation"
            raise ConfigError(self.doc.file, [*self.refusals, self._at(event, deep)])
        self.doc.positions[path] = _position(event)
        if isinstance(event, yaml.ScalarEvent):
            return self._scalar(event, path)
        kind = _COLLECTIONS[type(event)]
        if not self._tag_ok(event, kind, None, path):
            self._skip_rest()
            return None
        if kind is yaml.SequenceNode:
            return self._sequence(path, depth)
        return self._mapping(path, depth)

    def _tag_ok(self, event: Any, kind: type[yaml.Node], value: str | None, path: Path) -> bool:
        tag = self._tag(event, kind, value)
        if tag in _PLAIN_TAGS:
            return True
        shown = tag.replace("tag:yaml.org,2002:", "!!")
        self._unreadable(event, path, f"YAML tag {shown} is not supported: remove it")
        return False

    def _tag(self, event: Any, kind: type[yaml.Node], value: str | None) -> str:
        """The explicit tag, or the one YAML 1.1 resolution gives an untagged node."""
        if event.tag not in (None, "!"):
            return str(event.tag)
        implicit = getattr(event, "implicit", (True, False))
        return str(self.resolver.resolve(kind, value, implicit))  # type: ignore[no-untyped-call]

    def _scalar(self, event: Any, path: Path) -> Any:
        self.doc.scalars[path] = Scalar(text=event.value, plain=event.style in (None, ""))
        if not self._tag_ok(event, yaml.ScalarNode, event.value, path):
            return None
        tag = self._tag(event, yaml.ScalarNode, event.value)
        if tag == _TIMESTAMP_TAG:
            # Dates stay text, exactly as written: `expires: 2025-07-01` is validated later, and
            # an impossible date like 2025-02-30 becomes a clear message, not a crash.
            return event.value
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as err:
            reason = getattr(err, "problem", None) or str(err)
            message = f"cannot read {event.value!r} ({reason}): quote it to keep it as text"
            self._unreadable(event, path, message)
            return None

    def _sequence(self, path: Path, depth: int) -> list[Any]:
        items: list[Any] = []
        while not isinstance(self._peek(), yaml.SequenceEndEvent):
            items.append(self._node((*path, len(items)), depth + 1))
        self._next()
        return items

    def _mapping(self, path: Path, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while not isinstance(self._peek(), yaml.MappingEndEvent):
            key = self._key(path)
            if key is None or key in result:
                self._skip_node()
                continue
            result[key] = self._node((*path, key), depth + 1)
        self._next()
        return result

    def _key(self, path: Path) -> str | None:
        """The next key's text, or None (after recording the problem) if it cannot be used."""
        event = self._peek()
        if isinstance(event, yaml.AliasEvent):
            self.refusals.append(self._at(event, f"alias *{event.anchor}: {_NO_ANCHORS}"))
            self._next()
            return None
        if not isinstance(event, yaml.ScalarEvent):
            self.doc.problems.append(
                self._at(event, "a key must be plain text, not a list or mapping", path)
            )
            self._skip_node()
            return None
        self._next()
        key = str(event.value)
        child = (*path, key)
        if child in self.doc.key_positions:
            first = self.doc.key_positions[child][0]
            self.doc.problems.append(
                self._at(
                    event,
                    f"duplicate key {key!r} (first on line {first}): YAML would silently keep "
                    "only the last value; remove one",
                    child,
                )
            )
            return None
        if event.anchor is not None:
            self.refusals.append(self._at(event, f"anchor &{event.anchor}: {_NO_ANCHORS}"))
        self.doc.key_positions[child] = _position(event)
        return key

    def _skip_node(self) -> None:
        if type(self._next()) in _COLLECTIONS:
            self._skip_rest()

    def _skip_rest(self) -> None:
        """Consume events up to the end of the collection just opened (iteratively)."""
        depth = 1
        while depth:
            event = self._next()
            if type(event) in _COLLECTIONS:
                depth += 1
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1

    def _unreadable(self, event: Any, path: Path, message: str) -> None:
        self.doc.unreadable.add(path)
        self.doc.problems.append(self._at(event, message, path))


def _position(event: Any) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1
