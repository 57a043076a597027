"""Rendered plans compared with golden files. Regenerate with REGEN_GOLDEN=1 and review the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reconciler.access.review import reviewed_plan as plan
from reconciler.apply.executor import apply_plan
from reconciler.model import Config
from reconciler.plan.changes import Plan
from reconciler.render.json_plan import render_json
from reconciler.render.text import render_text
from tests.conftest import BASE_YAML, config_from
from tests.fake import FakeCloud

GOLDEN = Path(__file__).parent / "golden"
BUCKET = "clinical-share-123456789012"


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("REGEN_GOLDEN"):
        path.write_text(actual)
    assert actual == path.read_text()


def create_plan(config: Config) -> Plan:
    return plan(config, FakeCloud().read(config))


def drift_plan(config: Config) -> Plan:
    cloud = FakeCloud()
    apply_plan(plan(config, cloud.read(config)), cloud)
    ap = cloud.access_points["alice-access-point"]["policy"]["Statement"][0]
    ap["Resource"] = ap["Resource"].replace("object/Alice/*", "object/*")
    cloud.access_points["partner-site-ap"]["network_origin"] = "VPC"  # fixed at creation
    cloud.access_points["partner-site-ap"]["vpc_id"] = "vpc-0123"
    cloud.access_points["legacy-ap"] = {"bucket": BUCKET, "tags": {}, "policy": None}
    cloud.buckets[BUCKET]["policy"]["Statement"] = [
        s
        for s in cloud.buckets[BUCKET]["policy"]["Statement"]
        if s["Sid"] != "ReconcilerDenyInsecureTransport"
    ] + [
        {
            "Sid": "Auditor",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/Auditor"},
            "Action": "s3:GetBucketLocation",
            "Resource": f"arn:aws:s3:::{BUCKET}",
        }
    ]
    without_bob = BASE_YAML.replace(
        "  - id: bob\n    iam_user: Bob\n    prefix: Bob/\n    access: [write, read, list]\n", ""
    )
    smaller = config_from(without_bob)
    return plan(smaller, cloud.read(smaller))


@pytest.mark.parametrize(("name", "build"), [("create", create_plan), ("drift", drift_plan)])
def test_text_plan_matches_golden(config: Config, name: str, build: object) -> None:
    assert callable(build)
    check_golden(f"{name}.txt", render_text(build(config)))


@pytest.mark.parametrize(("name", "build"), [("create", create_plan), ("drift", drift_plan)])
def test_json_plan_matches_golden(config: Config, name: str, build: object) -> None:
    assert callable(build)
    rendered = render_json(build(config))
    check_golden(f"{name}.json", rendered)
    doc = json.loads(rendered)
    assert doc["format_version"] == 1
    assert set(doc["summary"]) == {"create", "update", "replace", "delete"}
    for change in doc["changes"]:
        assert set(change) == {"action", "type", "id", "collaborator", "before", "after"}


def test_empty_plan_says_so(config: Config) -> None:
    cloud = FakeCloud()
    apply_plan(plan(config, cloud.read(config)), cloud)
    assert render_text(plan(config, cloud.read(config))) == (
        "No changes. Live state matches collaborators.yaml.\n"
    )
