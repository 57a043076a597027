"""IAM Access Analyzer policy validation (ValidatePolicy) for `verify --access-analyzer`.

Only against real AWS: with a custom endpoint (moto, LocalStack) the CLI does not call it.
Findings of type ERROR or SECURITY_WARNING fail verify; WARNING and SUGGESTION are reported
("IAM Access Analyzer policy validation",
https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-policy-validation.html).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from botocore.config import Config as BotoConfig

from reconciler.access.analyzer import AnalyzerFinding, PolicyToValidate
from reconciler.aws.call_log import install_call_logging
from reconciler.aws.errors import reading
from reconciler.aws.session import Connection, open_session


def analyzer_client(connection: Connection) -> Any:
    session = open_session(connection)
    options: dict[str, Any] = {
        "retries": {"mode": connection.retry_mode, "total_max_attempts": connection.max_attempts}
    }
    client = session.client("accessanalyzer", config=BotoConfig(**options))
    install_call_logging(client)
    return client


class AccessAnalyzer:
    def __init__(self, client: Any) -> None:
        self.client = client

    def validate_all(self, policies: Iterable[PolicyToValidate]) -> list[AnalyzerFinding]:
        return [finding for policy in policies for finding in self.validate(policy)]

    @reading("IAM Access Analyzer findings (access-analyzer:ValidatePolicy)")
    def validate(self, policy: PolicyToValidate) -> list[AnalyzerFinding]:
        kwargs: dict[str, Any] = {
            "policyDocument": json.dumps(policy.document, sort_keys=True),
            "policyType": policy.policy_type,
        }
        if policy.resource_type is not None:
            kwargs["validatePolicyResourceType"] = policy.resource_type
        paginator = self.client.get_paginator("validate_policy")
        return [
            AnalyzerFinding(
                policy=policy.label,
                finding_type=str(item.get("findingType", "")),
                issue_code=str(item.get("issueCode", "")),
                details=str(item.get("findingDetails", "")),
                learn_more=str(item.get("learnMoreLink", "")),
            )
            for page in paginator.paginate(**kwargs)
            for item in page.get("findings", [])
        ]
