"""Wildcard patterns as IAM matches them.

- `*` matches any run of characters, `?` exactly one (IAM User Guide, "IAM JSON policy elements:
  Resource", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
- In ARNs the wildcards stay within one of the six colon-separated components; a `*` that ends a
  pattern with fewer components may run past colons ("Condition operators", ArnLike;
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
- Actions match case-insensitively.
- Policy variables (`${aws:username}`) are only substituted in "Version": "2012-10-17" policies;
  `${*}`, `${?}` and `${$}` stand for the literal character. Any other variable makes the
  pattern unknowable here, so it matches MAYBE (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from reconciler.access.logic import Tri

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_LITERAL_VARIABLES = {"*": "*", "?": "?", "$": "$"}
ARN_COMPONENTS = 6


@dataclass(frozen=True)
class Pattern:
    text: str
    literal_prefix: str  # the part before the first wildcard (or unresolved variable)
    # "exact" (no wildcard), "prefix" (one trailing `*` that may match anything), "regex", or
    # "unknown" (holds a policy variable this tool cannot resolve)
    shape: str
    regex: re.Pattern[str] | None = None
    ignore_case: bool = False

    def match(self, value: str) -> Tri:
        shape = self.shape
        if shape == "exact":
            hit = (value.lower() if self.ignore_case else value) == self.literal_prefix
        elif shape == "prefix":
            hit = (value.lower() if self.ignore_case else value).startswith(self.literal_prefix)
        elif shape == "regex":
            assert self.regex is not None
            hit = self.regex.fullmatch(value) is not None
        else:
            return Tri.MAYBE
        return Tri.YES if hit else Tri.NO

    @property
    def unknowable(self) -> bool:
        return self.shape == "unknown"


def _tokens(text: str, variables: bool) -> list[tuple[str, str]] | None:
    """Split into ("lit", c) and ("*"|"?", c) tokens; None when an unresolvable variable occurs."""
    if not variables or "${" not in text:
        return [(char, char) if char in "*?" else ("lit", char) for char in text]
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        found = _VARIABLE.match(text, pos) if variables else None
        if found:
            name = found.group(1)
            if name not in _LITERAL_VARIABLES:
                return None
            tokens.append(("lit", _LITERAL_VARIABLES[name]))
            pos = found.end()
            continue
        char = text[pos]
        tokens.append((char, char) if char in "*?" else ("lit", char))
        pos += 1
    return tokens


def _literal_prefix(text: str, tokens: list[tuple[str, str]] | None) -> str:
    if tokens is None:
        cut = text.find("${")
        text = text[:cut] if cut >= 0 else text
        return re.split(r"[*?]", text, maxsplit=1)[0]
    prefix = []
    for kind, char in tokens:
        if kind != "lit":
            break
        prefix.append(char)
    return "".join(prefix)


@functools.lru_cache(maxsize=65536)
def compile_pattern(
    text: str,
    *,
    wildcards: bool = True,
    ignore_case: bool = False,
    arn: bool = False,
    variables: bool = False,
) -> Pattern:
    """A compiled matcher. `wildcards=False` gives exact matching (StringEquals, Bool).
    Cached: a plan compiles the same policies for the live and the planned state."""
    tokens = _tokens(text, variables)
    prefix = _literal_prefix(text, tokens)
    if tokens is None:
        return Pattern(text, prefix, "unknown")
    if not wildcards:
        tokens = [("lit", char) for _, char in tokens]
    literal = "".join(char for _, char in tokens)
    folded = literal.lower() if ignore_case else literal
    wild = [kind for kind, _ in tokens if kind != "lit"]
    if not wild:
        return Pattern(text, folded, "exact", ignore_case=ignore_case)
    regex = _regex(tokens, arn)
    if wild == ["*"] and tokens[-1][0] == "*" and regex.endswith(".*"):
        head = prefix.lower() if ignore_case else prefix
        return Pattern(text, head, "prefix", ignore_case=ignore_case)
    flags = re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL
    return Pattern(text, prefix, "regex", _compiled(regex, flags), ignore_case)


def _regex(tokens: list[tuple[str, str]], arn: bool) -> str:
    colons = sum(1 for kind, char in tokens if kind == "lit" and char == ":")
    parts: list[str] = []
    run: list[str] = []
    component = 0
    for index, (kind, char) in enumerate(tokens):
        if kind == "lit":
            run.append(char)
            component += char == ":"
            continue
        parts.append(re.escape("".join(run)))
        run = []
        last_component = not arn or component >= ARN_COMPONENTS - 1
        open_end = arn and colons < ARN_COMPONENTS - 1 and index == len(tokens) - 1
        if kind == "*":
            parts.append(".*" if last_component or open_end else "[^:]*")
        else:
            parts.append("." if last_component else "[^:]")
    parts.append(re.escape("".join(run)))
    return "".join(parts)


@functools.lru_cache(maxsize=4096)
def _compiled(regex: str, flags: int) -> re.Pattern[str]:
    return re.compile(regex, flags)


def any_match(patterns: tuple[Pattern, ...], value: str) -> Tri:
    best = Tri.NO
    for pattern in patterns:
        result = pattern.match(value)
        if result is Tri.YES:
            return Tri.YES
        best = max(best, result)
    return best


def instantiate(text: str, filler: str) -> str | None:
    """A concrete string the glob matches: `*` -> filler, `?` -> 'x'. None if it holds variables."""
    if "${" in text:
        return None
    return text.replace("*", filler).replace("?", "x")
