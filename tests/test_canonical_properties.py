"""canonical_policy's fast paths (plain string lists, unique Sids) change nothing: the result is
the one the general algorithm gives, and canonicalizing twice changes nothing either."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model import canonical_policy

# strings that sort differently raw and JSON-encoded ("a!" vs "a", quotes, non-ASCII) included
text = st.sampled_from(["s3:GetObject", "s3:*", "a", "a!", "a b", 'a"', "a\\", "é", "arn:x/*"])
values = st.one_of(text, st.lists(text, max_size=4))
condition_values = st.one_of(values, st.booleans(), st.lists(st.one_of(text, st.integers())))
statement = st.fixed_dictionaries(
    {"Effect": st.sampled_from(["Allow", "Deny"]), "Action": values, "Resource": values},
    optional={
        "Sid": st.sampled_from(["", "ReconcilerRead", "ReconcilerWrite", "Other"]),
        "Principal": st.one_of(st.just("*"), st.fixed_dictionaries({"AWS": values})),
        "Condition": st.dictionaries(
            st.sampled_from(["StringLike", "Bool"]),
            st.dictionaries(
                st.sampled_from(["s3:prefix", "aws:SecureTransport"]), condition_values
            ),
            max_size=2,
        ),
    },
)
policy = st.fixed_dictionaries({"Statement": st.lists(statement, max_size=4)})


def reference(document: Mapping[str, Any]) -> dict[str, Any]:
    """The general algorithm, with no fast path: JSON-encode every value to sort and dedupe."""

    def value(v: Any) -> Any:
        if isinstance(v, list):
            loaded = [
                json.loads(i) for i in sorted({json.dumps(any_(x), sort_keys=True) for x in v})
            ]
            return loaded[0] if len(loaded) == 1 else loaded
        return any_(v)

    def any_(v: Any) -> Any:
        if isinstance(v, Mapping):
            return {k: value(x) for k, x in sorted(v.items())}
        return value(v) if isinstance(v, list) else v

    special = {"Action", "NotAction", "Resource", "NotResource", "Principal", "Condition"}
    statements = [
        {k: value(v) if k in special else v for k, v in sorted(s.items())}
        for s in document["Statement"]
    ]
    statements.sort(key=lambda s: (str(s.get("Sid", "")), json.dumps(s, sort_keys=True)))
    return {"Version": "2012-10-17", "Statement": statements}


@settings(max_examples=300, deadline=None)
@given(policy)
def test_fast_paths_give_the_general_result(document: dict[str, Any]) -> None:
    assert canonical_policy(document) == reference(document)


@settings(max_examples=300, deadline=None)
@given(policy)
def test_canonical_form_is_a_fixed_point(document: dict[str, Any]) -> None:
    once = canonical_policy(document)
    assert canonical_policy(once) == once
    assert canonical_policy(json.dumps(once)) == once
