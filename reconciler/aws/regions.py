"""Which AWS Regions exist, from botocore's partition data (botocore/data/partitions.json, the
data its endpoint resolution uses), to refuse a mistyped `--region` before any AWS call, with
a suggestion.

The tool writes `arn:aws:` policies, so a Region must be one of the standard `aws` partition
(the schema says the same of collaborators.yaml's `region`)."""

from __future__ import annotations

import difflib
import re
from functools import cache

PARTITION = "aws"
# partitions.json also lists each partition's global endpoint pseudo-Region (aws-global)
_REGION_NAME = re.compile(r"[a-z]{2,}(-[a-z]+)+-\d+")


@cache
def regions() -> dict[str, dict[str, str]]:
    """Partition id -> {Region name: description}, as the installed botocore knows them."""
    from botocore.loaders import Loader

    data = Loader().load_data("partitions")
    return {
        str(part["id"]): {
            str(name): str(info.get("description", ""))
            for name, info in part.get("regions", {}).items()
            if _REGION_NAME.fullmatch(str(name))
        }
        for part in data.get("partitions", [])
    }


def region_problem(name: str) -> str | None:
    """Why `name` is not a Region this tool can use (None: it is one), with a suggestion."""
    known = regions()
    if name in known.get(PARTITION, {}):
        return None
    other = next((part for part, names in known.items() if name in names), None)
    if other is not None:
        return (
            f"{name!r} is a Region of the {other} partition; this tool writes policies for the "
            f"standard {PARTITION} partition only"
        )
    standard = known.get(PARTITION, {})
    close = difflib.get_close_matches(name, list(standard), n=1, cutoff=0.6)
    if close:
        return (
            f"{name!r} is not an AWS Region name: did you mean {close[0]} ({standard[close[0]]})?"
        )
    return f"{name!r} is not an AWS Region name ({_examples()})"


def _examples() -> str:
    import botocore

    count = len(regions().get(PARTITION, {}))
    return f"e.g. us-east-1, eu-west-2; botocore {botocore.__version__} knows {count} Regions"
