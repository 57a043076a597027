"""The access card (`reconcile show`), pure: per-level commands, presigned link limit, suspended
and expired collaborators, KMS buckets, partners, and the three formats."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from reconciler.errors import ReconcilerError
from reconciler.model import AccessLevel, Config
from reconciler.render.card import render_card_json, render_card_markdown, render_card_text
from reconciler.reports.card import build_card, presigned_url_max_age
from tests.conftest import BASE_YAML, config_from

TODAY = date(2026, 1, 1)
FOLDER = "s3://arn:aws:s3:us-east-1:123456789012:accesspoint/alice-access-point/Alice/"


def with_levels(config: Config, *levels: str) -> Config:
    alice = replace(config.collaborators[0], access=tuple(AccessLevel(lv) for lv in levels))
    return replace(config, collaborators=(alice, *config.collaborators[1:]))


def test_every_level_gets_its_command_and_nothing_else(config: Config) -> None:
    card = build_card(with_levels(config, "write"), "alice", today=TODAY)
    assert [c.command for c in card.commands] == [
        f"aws s3 cp data.csv {FOLDER}data.csv --region us-east-1"
    ]
    card = build_card(with_levels(config, "delete", "list", "read", "write"), "alice", today=TODAY)
    assert [c.command for c in card.commands] == [
        f"aws s3 cp data.csv {FOLDER}data.csv --region us-east-1",
        f"aws s3 cp {FOLDER}data.csv data.csv --region us-east-1",
        f"aws s3 ls {FOLDER} --region us-east-1",
        f"aws s3 rm {FOLDER}data.csv --region us-east-1",
        f"aws s3 presign {FOLDER}data.csv --expires-in 300 --region us-east-1",
    ]


def test_presigned_links_never_outlive_the_bucket_limit(config: Config) -> None:
    assert presigned_url_max_age(config) == 300
    card = build_card(with_levels(config, "read"), "alice", today=TODAY)
    presign = [c.command for c in card.commands if "presign" in c.command]
    assert presign == [f"aws s3 presign {FOLDER}data.csv --expires-in 300 --region us-east-1"]
    assert card.presigned_url_max_age_seconds == 300


def test_suspended_and_expired_collaborators_get_no_commands() -> None:
    config = config_from(
        BASE_YAML.replace("    access: [write]\n", "    access: [write]\n    expires: 2025-07-01\n")
    )
    card = build_card(config, "alice", today=TODAY)
    assert (card.status, card.suspended_because, card.commands) == (
        "suspended",
        "expired on 2025-07-01",
        (),
    )
    assert "Nothing works while the collaborator is suspended." in render_card_text(card)
    assert build_card(config, "alice", today=date(2025, 6, 30)).status == "active"


def test_kms_bucket_says_no_sse() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    config = config_from(
        BASE_YAML.replace(
            "  name: clinical-share-123456789012\n",
            f"  name: clinical-share-123456789012\n  encryption: aws:kms\n  kms_key_id: {key}\n",
        )
    )
    card = build_card(config, "bob", today=TODAY)
    assert card.kms is not None and card.kms["key"] == key
    assert not any("--sse" in c.command for c in card.commands)
    assert "No --sse option" in render_card_text(card)
    assert card.kms["actions"] == ["kms:Decrypt", "kms:GenerateDataKey"]  # write and read
    assert card.kms["key_policy_statement"] is None  # an IAM user: its identity policy has it
    partner = build_card(config, "partner-site", today=TODAY)
    assert partner.kms is not None and partner.partner_policy is not None
    kms_sid = [s for s in partner.partner_policy["Statement"] if s["Sid"].endswith("ThroughS3")]
    # issue 22: with the S3 Bucket Key the context is the bucket ARN, without it the object ARN,
    # which the partner policy allows under the partner's own folder only
    assert kms_sid[0]["Resource"] == key and kms_sid[0]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
        "StringLike": {
            "kms:EncryptionContext:aws:s3:arn": [
                "arn:aws:s3:::clinical-share-123456789012",
                "arn:aws:s3:::clinical-share-123456789012/partner-site/*",
            ]
        },
    }
    needed = partner.kms["key_policy_statement"]
    assert needed["Principal"] == {"AWS": "arn:aws:iam::111122223333:role/Uploader"}
    assert needed["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert "The key policy of" in render_card_text(partner)


def test_json_has_the_documented_keys(config: Config) -> None:
    doc = json.loads(render_card_json(build_card(config, "partner-site", today=TODAY)))
    assert doc["collaborator"] == "partner-site"
    assert doc["access_point_arn"] == (
        "arn:aws:s3:us-east-1:123456789012:accesspoint/partner-site-ap"
    )
    assert doc["access_point_alias"] is None  # offline: only AWS knows it
    assert (doc["region"], doc["prefix"], doc["levels"]) == (
        "us-east-1",
        "partner-site/",
        ["write"],
    )
    assert doc["partner_policy"]["Statement"][0]["Sid"] == "ReconcilerWrite"
    assert doc["kms"] is None and doc["presigned_url_max_age_seconds"] == 300
    assert doc["commands"][0]["level"] == "write"
    user = json.loads(render_card_json(build_card(config, "alice", today=TODAY)))
    assert user["partner_policy"] is None and user["kind"] == "iam_user"


def test_markdown_is_an_email(config: Config) -> None:
    text = render_card_markdown(build_card(config, "bob", today=TODAY))
    assert text.startswith("### Your access: `bob`\n")
    assert f"```sh\naws s3 ls {FOLDER.replace('alice', 'bob').replace('Alice', 'Bob')}" in text
    assert "#### Please do not" in text and "#### Identity policy" not in text


def test_unknown_id_is_one_clear_error(config: Config) -> None:
    with pytest.raises(ReconcilerError, match=r"no collaborator with id 'carol' in collab"):
        build_card(config, "carol", today=TODAY)
