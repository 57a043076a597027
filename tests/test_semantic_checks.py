"""Rules beyond the schema: overlap, quotas, policy sizes, personal data."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.config import semantic
from reconciler.config.loader import load_config_text
from reconciler.config.phi import personal_data
from reconciler.config.policy_sizes import PolicyLimits, policy_size_problems
from reconciler.config.semantic import overlapping_pairs
from reconciler.config.yaml_source import parse
from reconciler.documents.policies import access_point_policy, identity_policy, policy_text
from reconciler.errors import ConfigError
from tests.conftest import BASE_YAML

HEAD = """\
version: 1
account_id: "123456789012"
region: us-east-1
bucket:
  name: clinical-share-123456789012
collaborators:
"""

PREFIXES = st.lists(
    st.lists(st.sampled_from(["a", "b", "ab"]), min_size=1, max_size=3).map(
        lambda parts: "/".join(parts) + "/"
    ),
    max_size=8,
)


@given(PREFIXES)
def test_overlap_finds_exactly_the_pairs_a_brute_force_finds(prefixes: list[str]) -> None:
    first = {p: prefixes.index(p) for p in prefixes}
    expected_nested = {
        (first[outer], first[inner])
        for outer, inner in itertools.permutations(set(prefixes), 2)
        if inner.startswith(outer)
    }
    expected_equal = {(first[p], i) for i, p in enumerate(prefixes) if first[p] != i}
    nested, equal = overlapping_pairs(prefixes)
    assert set(nested) == expected_nested and len(nested) == len(expected_nested)
    assert set(equal) == expected_equal


def test_a_prefix_is_not_inside_one_that_only_shares_its_start() -> None:
    assert overlapping_pairs(["site1/", "site10/", "site1-raw/"]) == ([], [])


def test_every_overlapping_pair_is_reported_once() -> None:
    text = HEAD + "".join(
        f"  - id: c{i}\n    iam_user: U{i}\n    prefix: {p}\n"
        for i, p in enumerate(["a/b/c/", "a/", "a/b/"])
    )
    with pytest.raises(ConfigError) as info:
        load_config_text(text.encode(), "c.yaml")
    assert [str(p) for p in info.value.problems] == [
        "c.yaml:12:5: collaborators[1].prefix: prefix 'a/' contains 'a/b/c/' of collaborators[0] "
        "(line 9): this collaborator can reach that one's data; prefixes must not overlap",
        "c.yaml:15:5: collaborators[2].prefix: prefix 'a/b/' contains 'a/b/c/' of collaborators[0] "
        "(line 9): this collaborator can reach that one's data; prefixes must not overlap",
        "c.yaml:15:5: collaborators[2].prefix: prefix 'a/b/' is inside 'a/' of collaborators[1] "
        "(line 12): that collaborator can reach this one's data; prefixes must not overlap",
    ]


def many(count: int, managed: bool) -> bytes:
    who = "iam_user: U{i}" if managed else "principal: arn:aws:iam::111122223333:role/R{i}"
    return (HEAD + "".join(f"  - id: c{i}\n    {who.format(i=i)}\n" for i in range(count))).encode()


def test_access_point_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(semantic, "MAX_ACCESS_POINTS", 3)
    load_config_text(many(3, managed=False), "c.yaml")
    with pytest.raises(ConfigError) as info:
        load_config_text(many(4, managed=False), "c.yaml")
    assert str(info.value).splitlines() == [
        "c.yaml:6:1: collaborators: 4 collaborators need 4 access points; S3 allows 3 per "
        "account and Region (a quota AWS can raise on request)",
        "1 error in c.yaml",
    ]


def test_iam_user_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(semantic, "MAX_IAM_USERS", 2)
    load_config_text(many(3, managed=False), "c.yaml")
    with pytest.raises(ConfigError, match="3 IAM users \\(iam_user\\); IAM allows 2 per account"):
        load_config_text(many(3, managed=True), "c.yaml")


def test_the_largest_values_the_schema_allows_fit_the_aws_policy_limits() -> None:
    principal = "arn:aws:iam::111122223333:role/" + "p/" * 200 + "R" * 64
    text = HEAD + (
        "  - id: " + "a" * 37 + "\n    principal: " + principal + "\n"
        "    prefix: " + "x" * 511 + "/\n    access: [read, write, list, delete]\n"
        "  - id: " + "b" * 37 + "\n    iam_user: " + "U" * 64 + "\n"
        "    access_point: " + "c" * 50 + "\n"
    )
    load_config_text(text.encode(), "c.yaml")


def test_policy_size_limits_are_measured_on_the_documents_written() -> None:
    # with console: true, so that both users have an inline policy
    text = BASE_YAML.replace("    access: [write]\n", "    access: [write]\n    console: true\n", 1)
    text = text.replace("list]\n", "list]\n    console: true\n")
    config = load_config_text(text.encode(), "c.yaml")
    doc = parse(text, "c.yaml")
    alice, bob = config.collaborators[:2]
    ap_bytes = [
        len(policy_text(access_point_policy(config, c)).encode()) for c in config.collaborators
    ]
    user_chars = [
        len("".join(policy_text(identity_policy(config, c) or {}).split())) for c in (alice, bob)
    ]
    # bob has the most access levels. The console statement names no access point since
    # s3:GetAccessPoint is granted on "*" (issue 22: the SAR lists no resource type for it), so
    # both users' inline policies are the same size
    assert max(ap_bytes) == ap_bytes[1] and max(user_chars) == user_chars[0] == user_chars[1]
    at_limit = PolicyLimits(max(ap_bytes), 20 * 1024, max(user_chars))
    assert policy_size_problems(config, doc, at_limit) == []
    over = PolicyLimits(max(ap_bytes) - 1, 20 * 1024, max(user_chars) - 1)
    assert [str(p) for p in policy_size_problems(config, doc, over)] == [
        f"c.yaml:9:5: collaborators[0].iam_user: the inline policy of IAM user 'Alice' would be "
        f"{user_chars[0]:,} characters without whitespace; IAM allows {user_chars[0] - 1:,} "
        "per user",
        f"c.yaml:13:5: collaborators[1]: the access point policy would be {ap_bytes[1]:,} bytes; "
        f"S3 allows {ap_bytes[1] - 1:,}: shorten the prefix or principal",
        f"c.yaml:14:5: collaborators[1].iam_user: the inline policy of IAM user 'Bob' would be "
        f"{user_chars[1]:,} characters without whitespace; IAM allows {user_chars[1] - 1:,} "
        "per user",
    ]
    tiny_bucket = PolicyLimits(20 * 1024, 100, 2048)
    (bucket,) = policy_size_problems(config, doc, tiny_bucket)
    assert bucket.path == "bucket" and "the bucket policy would be" in bucket.message


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("jane.doe@example.org/", "an e-mail address"),
        ("uploads-j.smith@hospital.co.uk", "an e-mail address"),
        ("123-45-6789", "a US Social Security number"),
        ("patient_123_45_6789/", "a US Social Security number"),
        ("1980-05-17", "a date (a date of birth is personal data)"),
        ("dob19800517", "a date (a date of birth is personal data)"),
        ("p-17.05.1980/", "a date (a date of birth is personal data)"),
        ("05-17-1980", "a date (a date of birth is personal data)"),
        ("clinical-share-123456789012", None),
        ("site-2024-01/", None),
        ("000-12-3456", None),
        ("123-45-67890", None),
        ("2024-13-45", None),
        ("20240230", None),
        ("alice@", None),
        ("v1.2.3/", None),
        ("Alice/", None),
    ],
)
def test_personal_data_patterns(text: str, kind: str | None) -> None:
    assert personal_data(text) == kind
