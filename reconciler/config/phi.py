"""PHI guard: names and prefixes must not carry personal data.

S3 object keys (prefixes), IAM names and tags are not encrypted and show up in logs, ARNs and
consoles; access point and bucket names are published in public DNS (S3 User Guide, "Access
points naming rules": "avoid including sensitive information"). A name that looks like an
e-mail address, a US Social Security number or a date (of birth) is refused.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from reconciler.config.wording import show
from reconciler.config.yaml_source import Path, SourceDocument
from reconciler.errors import ConfigProblem

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# area 001-899 except 666, group 01-99, serial 0001-9999, one separator used twice
_SSN = re.compile(
    r"(?<![0-9])(?!000|666|9)[0-9]{3}(?P<s>[-_. ])(?!00)[0-9]{2}(?P=s)(?!0000)[0-9]{4}(?![0-9])"
)
_YEAR = r"(?P<y>(?:19|20)[0-9]{2})"
_MONTH = r"(?P<m>0?[1-9]|1[0-2])"
_DAY = r"(?P<d>0?[1-9]|[12][0-9]|3[01])"
_DATES = (
    re.compile(r"(?<![0-9])(?P<y>(?:19|20)[0-9]{2})(?P<m>0[1-9]|1[0-2])(?P<d>[0-3][0-9])(?![0-9])"),
    re.compile(rf"(?<![0-9]){_YEAR}(?P<s>[-_.]){_MONTH}(?P=s){_DAY}(?![0-9])"),
    re.compile(rf"(?<![0-9]){_DAY}(?P<s>[-_.]){_MONTH}(?P=s){_YEAR}(?![0-9])"),
    re.compile(rf"(?<![0-9]){_MONTH}(?P<s>[-_.]){_DAY}(?P=s){_YEAR}(?![0-9])"),
)

# Why each kind of name is exposed.
EXPOSURE = {
    "name": "bucket names are public in DNS",
    "iam_path": "IAM paths are not encrypted and appear in ARNs and logs",
    "id": "ids become access point names (public in DNS) and tags",
    "iam_user": "IAM user names are not encrypted and appear in ARNs and logs",
    "prefix": "prefixes are S3 object keys, which are not encrypted",
    "access_point": "access point names are public in DNS",
}


def personal_data(text: str) -> str | None:
    """What kind of personal data the text seems to hold, or None."""
    if _EMAIL.search(text):
        return "an e-mail address"
    if _SSN.search(text):
        return "a US Social Security number"
    if any(_real_date(m) for pattern in _DATES for m in pattern.finditer(text)):
        return "a date (a date of birth is personal data)"
    return None


def _real_date(match: re.Match[str]) -> bool:
    try:
        datetime.date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return False
    return True


def phi_problems(doc: SourceDocument) -> list[ConfigProblem]:
    problems = []
    for path, value in _named_values(doc.data):
        if not isinstance(value, str):
            continue
        kind = personal_data(value)
        if kind is not None:
            why = EXPOSURE[str(path[-1])]
            problems.append(
                doc.problem(
                    path,
                    f"{show(value)} looks like {kind}; {why}: keep personal data out of it "
                    "(use a neutral code, such as a site or study id)",
                )
            )
    return problems


def _named_values(data: Any) -> list[tuple[Path, Any]]:
    if not isinstance(data, dict):
        return []
    found: list[tuple[Path, Any]] = [(("iam_path",), data.get("iam_path"))]
    bucket = data.get("bucket")
    if isinstance(bucket, dict):
        found.append((("bucket", "name"), bucket.get("name")))
    collaborators = data.get("collaborators")
    for index, entry in enumerate(collaborators if isinstance(collaborators, list) else []):
        if isinstance(entry, dict):
            found += [
                (("collaborators", index, key), entry.get(key))
                for key in ("id", "iam_user", "prefix", "access_point")
            ]
    return found
