"""verify --access-analyzer: ValidatePolicy through the adapter, with a botocore Stubber (never
a real call)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from reconciler.access.analyzer import policies_to_validate
from reconciler.access.checks import verify
from reconciler.aws.access_analyzer import AccessAnalyzer
from reconciler.cli import verify as verify_cli
from reconciler.cli.common import Options
from reconciler.errors import AwsError
from reconciler.model import Config
from tests.access_support import desired
from tests.conftest import BASE_YAML, config_from


@pytest.fixture
def config() -> Config:
    """Both managed users open the S3 console, so each has an identity policy to validate (by
    default the tool writes none: the access point policy names the user)."""
    return config_from(
        BASE_YAML.replace("iam_user: Alice\n", "iam_user: Alice\n    console: true\n").replace(
            "iam_user: Bob\n", "iam_user: Bob\n    console: true\n"
        )
    )


def client() -> Any:
    return boto3.client("accessanalyzer", region_name="us-east-1")


def finding(kind: str, code: str) -> dict[str, Any]:
    return {
        "findingType": kind,
        "issueCode": code,
        "findingDetails": f"{code} details",
        "learnMoreLink": "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html",
        "locations": [],
    }


def test_policies_the_tool_writes_are_sent_with_their_types(config: Config) -> None:
    policies = policies_to_validate(config, desired(config))
    kinds = {(p.label.split(" ")[0], p.policy_type, p.resource_type) for p in policies}
    assert kinds == {
        ("bucket", "RESOURCE_POLICY", "AWS::S3::Bucket"),
        ("access", "RESOURCE_POLICY", "AWS::S3::AccessPoint"),
        ("identity", "IDENTITY_POLICY", None),
    }
    assert len(policies) == 1 + 3 + 2  # bucket, three access points, two managed users


def test_validate_pages_through_findings(config: Config) -> None:
    policy = next(p for p in policies_to_validate(config, desired(config)) if "bucket" in p.label)
    analyzer_client = client()
    expected = {
        "policyDocument": json.dumps(policy.document, sort_keys=True),
        "policyType": "RESOURCE_POLICY",
        "validatePolicyResourceType": "AWS::S3::Bucket",
    }
    with Stubber(analyzer_client) as stub:
        stub.add_response(
            "validate_policy",
            {"findings": [finding("SUGGESTION", "EMPTY_ARRAY_ACTION")], "nextToken": "page-2"},
            expected,
        )
        stub.add_response(
            "validate_policy",
            {"findings": [finding("SECURITY_WARNING", "PASS_ROLE_WITH_STAR_IN_RESOURCE")]},
            {**expected, "nextToken": "page-2"},
        )
        found = AccessAnalyzer(analyzer_client).validate(policy)
        stub.assert_no_pending_responses()
    assert [(f.finding_type, f.blocking) for f in found] == [
        ("SUGGESTION", False),
        ("SECURITY_WARNING", True),
    ]
    assert found[0].policy == f"bucket policy {config.bucket.name}"


def test_an_access_analyzer_error_is_one_clear_error(config: Config) -> None:
    policy = policies_to_validate(config, desired(config))[0]
    analyzer_client = client()
    with Stubber(analyzer_client) as stub:
        stub.add_client_error("validate_policy", "AccessDeniedException", "not allowed")
        with pytest.raises(AwsError, match="ValidatePolicy"):
            AccessAnalyzer(analyzer_client).validate(policy)


def options(**overrides: Any) -> Options:
    values: dict[str, Any] = {
        "config": "collaborators.yaml",
        "output_format": "text",
        "profile": None,
        "region": None,
        "endpoint_url": None,
        "sandbox": False,
        "retry_mode": "standard",
        "max_attempts": 8,
    }
    values.update(overrides)
    return Options(**values)


def test_blocking_findings_fail_verify_against_real_aws(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = desired(config)
    analyzer_client = client()
    stub = Stubber(analyzer_client)
    for index in range(len(policies_to_validate(config, state))):
        kind = "ERROR" if index == 0 else "WARNING"
        stub.add_response("validate_policy", {"findings": [finding(kind, f"CODE_{index}")]})
    monkeypatch.setattr(
        "reconciler.aws.access_analyzer.analyzer_client", lambda connection: analyzer_client
    )
    with stub:
        report = verify_cli.with_access_analyzer(verify(config, state), options(), config, state)
    assert report.analyzer is not None and len(report.analyzer) == 6
    assert report.violations == 1 and not report.ok
    assert report.analyzer_note == "6 policies validated"


def test_never_called_with_a_custom_endpoint(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(connection: object) -> None:
        raise AssertionError("Access Analyzer must not be called with a custom endpoint")

    monkeypatch.setattr("reconciler.aws.access_analyzer.analyzer_client", forbidden)
    state = desired(config)
    for opts in (options(endpoint_url="http://127.0.0.1:5000"), options(sandbox=True)):
        report = verify_cli.with_access_analyzer(verify(config, state), opts, config, state)
        assert report.analyzer is None and report.ok
        assert report.analyzer_note is not None and report.analyzer_note.startswith("skipped")
