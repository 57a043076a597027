"""Wildcard patterns as IAM matches them.

- `*` matches any run of characters, `?` exactly one (IAM User Guide, "IAM JSON policy elements:
  Resource", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
- ARN condition operators (ArnEquals, ArnLike, ArnNotEquals, ArnNotLike) check "each of the six
  colon-delimited components of the ARN separately", so a wildcard never crosses a colon (IAM
  User Guide, "IAM JSON policy elements: Condition operators", ARN condition operators,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN).
  A pattern with fewer than six components has no documented answer: a value its wildcards could
  only reach by crossing a colon matches MAYBE (never a guess), any other value NO.
- In the Resource element, "if the * wildcard is the last character of a resource ARN segment,
  it can expand to match beyond the colon boundaries" (IAM User Guide, "IAM JSON policy elements:
  Resource", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html):
  where matching within segments and matching across colons disagree, the answer is MAYBE.
  `"Resource": "*"` matches everything.
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
    regex: re.Pattern[str] | None = None  # "regex": the documented match (None: matches nothing)
    ignore_case: bool = False
    # an ARN pattern whose wildcards could also be read as crossing colons: that reading; a value
    # on which the two readings disagree matches MAYBE
    across: re.Pattern[str] | None = None

    def match(self, value: str) -> Tri:
        shape = self.shape
        if shape == "exact":
            hit = (value.lower() if self.ignore_case else value) == self.literal_prefix
        elif shape == "prefix":
            hit = (value.lower() if self.ignore_case else value).startswith(self.literal_prefix)
        elif shape == "regex":
            hit = self.regex is not None and self.regex.fullmatch(value) is not None
            if self.across is not None and (self.across.fullmatch(value) is not None) != hit:
                return Tri.MAYBE
        else:
            return Tri.MAYBE
        return Tri.YES if hit else Tri.NO

    @property
    def unknowable(self) -> bool:
        return self.shape == "unknown"

    @property
    def doubt(self) -> str:
        """Why the pattern may match MAYBE."""
        if self.unknowable:
            return f"{self.text} uses a policy variable"
        return (
            f"{self.text}: whether its wildcard crosses a colon of the ARN is not documented "
            "(ARN parts are matched one by one)"
        )


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
    resource: bool = False,
) -> Pattern:
    """A compiled matcher. `wildcards=False` gives exact matching (StringEquals, Bool); `arn`
    matches ARN parts one by one (ARN condition operators, and with `resource` the Resource
    element). Cached: a plan compiles the same policies for the live and the planned state."""
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
    flags = re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL
    anywhere = _regex(tokens, within_parts=False)
    if not arn or (resource and text == "*"):
        documented: str | None = anywhere
        across = None
    elif literal.count(":") < ARN_COMPONENTS - 1:
        documented, across = None, anywhere  # fewer than six parts: see the module docstring
    else:
        documented = _regex(tokens, within_parts=True)
        across = _regex(tokens, within_parts=True, tails_cross=True) if resource else None
        across = None if across == documented else across
    one_trailing_star = wild == ["*"] and tokens[-1][0] == "*"
    if one_trailing_star and across is None and documented and documented.endswith(".*"):
        head = prefix.lower() if ignore_case else prefix
        return Pattern(text, head, "prefix", ignore_case=ignore_case)
    return Pattern(
        text,
        prefix,
        "regex",
        _compiled(documented, flags) if documented is not None else None,
        ignore_case,
        _compiled(across, flags) if across is not None else None,
    )


def _regex(tokens: list[tuple[str, str]], *, within_parts: bool, tails_cross: bool = False) -> str:
    """`within_parts`: wildcards in the first five ARN parts do not cross a colon (the sixth
    part runs to the end); `tails_cross`: except a `*` that ends one of them."""
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
        free = not within_parts or component >= ARN_COMPONENTS - 1
        ends_part = index + 1 < len(tokens) and tokens[index + 1] == ("lit", ":")
        if kind == "*":
            parts.append(".*" if free or (tails_cross and ends_part) else "[^:]*")
        else:
            parts.append("." if free else "[^:]")
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
