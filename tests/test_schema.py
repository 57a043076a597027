"""The schema is the structural contract editors read: it must be valid draft 2020-12, closed,
documented and exemplified on every field, and worded for every rule it enforces."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from reconciler.config.contract import accepts, schema
from reconciler.config.loader import load_config, load_config_text
from reconciler.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "schema" / "collaborators.schema.json"


def subschemas(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from subschemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from subschemas(value, f"{where}/{index}")


def fields() -> Iterator[tuple[str, dict[str, Any]]]:
    for where, node in subschemas(schema()):
        for name, field in node.get("properties", {}).items():
            if where.endswith(("/not", "/if")):
                continue
            yield f"{where}/properties/{name}", field


def test_schema_is_valid_draft_2020_12_and_is_the_file_in_the_repository() -> None:
    Draft202012Validator.check_schema(schema())
    assert schema() == json.loads(SCHEMA_FILE.read_text())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_object_is_closed() -> None:
    objects = [w for w, n in subschemas(schema()) if n.get("type") == "object"]
    # top level, bucket, bucket.lifecycle, bucket.access_logs, safety, lock, lifecycle, report,
    # audit, collaborator
    assert len(objects) == 10
    for where, node in subschemas(schema()):
        if node.get("type") == "object":
            assert node.get("additionalProperties") is False, where


def test_every_field_has_a_description_and_examples_that_validate() -> None:
    checked = 0
    for where, field in fields():
        assert field.get("description"), where
        assert field.get("examples"), where
        validator = Draft202012Validator(field)
        for example in field["examples"]:
            assert validator.is_valid(example), (where, example)
        checked += 1
    assert checked >= 13


def test_whole_file_example_validates_as_a_config() -> None:
    (example,) = schema()["examples"]
    load_config_text(json.dumps(example).encode(), "example.yaml")


def test_every_rule_carries_its_wording() -> None:
    """patternErrorMessage / errorMessage are what editors and `reconcile validate` show."""
    for where, node in subschemas(schema()):
        if "pattern" in node and not where.endswith("/not"):
            assert node.get("patternErrorMessage"), where
        if "not" in node:
            assert node.get("errorMessage"), where
        if "enum" in node and len(node["enum"]) > 5:
            assert node.get("errorMessage"), where


def test_region_list_covers_every_region_botocore_knows_in_the_aws_partition() -> None:
    known = set(botocore.session.get_session().get_available_regions("s3", "aws"))
    listed = set(schema()["properties"]["region"]["enum"])
    assert known - listed == set(), "add the new Region(s) to the schema's region enum"
    assert {"us-east-1", "eu-west-2", "ap-southeast-2"} <= listed
    assert not {r for r in listed if r.startswith(("cn-", "us-gov-", "us-iso"))}


ID_LIKE = st.from_regex(re.compile(r"[a-z0-9][a-z0-9-]{0,40}"), fullmatch=True)


@given(ID_LIKE)
def test_every_valid_id_gives_a_valid_default_access_point_name(cid: str) -> None:
    """Derived access point names follow AWS rules because the id schema guarantees it."""
    if accepts(("collaborators", 0, "id"), cid):
        assert accepts(("collaborators", 0, "access_point"), f"{cid}-access-point")


def test_ids_at_the_length_limit_are_accepted_and_one_more_is_not() -> None:
    assert accepts(("collaborators", 0, "id"), "a" * 37)
    assert not accepts(("collaborators", 0, "id"), "a" * 38)
    assert len("a" * 37 + "-access-point") == 50


@pytest.mark.parametrize(
    ("path", "good", "bad"),
    [
        (
            ("bucket", "name"),
            ["abc", "a.b-c", "clinical-share-123456789012"],
            ["ab", "a..b", "-ab", "ab-", "xn--ab", "abc-s3alias", "abc.mrap", "10.0.0.1", "ABC"],
        ),
        (
            ("collaborators", 0, "access_point"),
            ["abc", "a-1"],
            ["ab", "-abc", "abc-", "a_b", "a.b", "abc-s3alias", "Abc", "a" * 51],
        ),
        (("collaborators", 0, "iam_user"), ["Alice", "a+=,.@_-"], ["", "a b", "a/b", "a" * 65]),
        (("iam_path",), ["/", "/a/", "/a/b/"], ["a/", "/a", "/a b/", "/" + "a" * 511 + "/"]),
        (("account_id",), ["000000000000"], ["12345678901", "1234567890123", "12345678901a"]),
        (
            ("collaborators", 0, "principal"),
            [
                "arn:aws:iam::111122223333:role/Uploader",
                "arn:aws:iam::111122223333:user/team/Alice",
            ],
            [
                "arn:aws:iam::111122223333:role/*",
                "arn:aws:iam::1111222233:role/X",
                "arn:aws-cn:iam::111122223333:role/X",
                "arn:aws:sts::111122223333:assumed-role/X/s",
                "arn:aws:iam::111122223333:group/X",
            ],
        ),
        (
            ("collaborators", 0, "prefix"),
            ["a/", "Alice/raw/", "a b/"],
            ["a", "/a/", "a*/", "a?/", "a/../", "a\n/", "a" * 512 + "/"],
        ),
    ],
)
def test_aws_naming_rules(path: tuple[str | int, ...], good: list[str], bad: list[str]) -> None:
    for value in good:
        assert accepts(path, value), value
    for value in bad:
        assert not accepts(path, value), value


def test_shipped_collaborators_yaml_validates() -> None:
    config = load_config(ROOT / "collaborators.yaml")
    assert [c.id for c in config.collaborators] == ["alice", "bob", "partner-site"]


FENCE = re.compile(r"```(\w*)\n(.*?)```", re.DOTALL)
ERRORS_LINE = re.compile(r"^[0-9]+ errors? in collaborators\.yaml\n\Z", re.MULTILINE)


def doc_examples() -> list[tuple[str, str, str | None]]:
    """(where, yaml, expected output or None) for every ```yaml block in the docs. A block
    followed by a block ending in "N errors in collaborators.yaml" must produce exactly that."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        if not path.exists():
            continue
        blocks = FENCE.findall(path.read_text())
        for index, (lang, body) in enumerate(blocks):
            if lang != "yaml":
                continue
            following = blocks[index + 1][1] if index + 1 < len(blocks) else ""
            output = following if ERRORS_LINE.search(following) else None
            found.append((f"{path.name} block {index}", body, output))
    return found


def test_docs_have_examples() -> None:
    assert len(doc_examples()) >= 4


@pytest.mark.parametrize(("where", "text", "output"), doc_examples())
def test_doc_example(where: str, text: str, output: str | None) -> None:
    if output is None:
        load_config_text(text.encode(), "collaborators.yaml")
        return
    with pytest.raises(ConfigError) as info:
        load_config_text(text.encode(), "collaborators.yaml")
    assert f"{info.value}\n" == output, where
