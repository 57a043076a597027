"""Reads the live state relevant to a Config. "Not found" is a state, not an error."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from reconciler.aws.errors import error_code, reading
from reconciler.aws.session import Clients
from reconciler.model import (
    Config,
    LiveAccessPoint,
    LiveBucket,
    LiveState,
    LiveUser,
    canonical_policy,
    is_managed,
)

_ABSENT = {
    "NoSuchBucket",
    "404",
    "NotFound",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchPublicAccessBlockConfiguration",
    "OwnershipControlsNotFoundError",
    "NoSuchBucketPolicy",
    "NoSuchAccessPointPolicy",
    "NoSuchAccessPoint",
    "NoSuchEntity",
}


def _absent(err: ClientError) -> bool:
    return error_code(err) in _ABSENT


def tags_to_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


class AwsReader:
    def __init__(self, clients: Clients) -> None:
        self.clients = clients

    @reading("the caller identity (sts:GetCallerIdentity)")
    def caller_account(self) -> str:
        return str(self.clients.sts.get_caller_identity()["Account"])

    @reading("the caller identity (sts:GetCallerIdentity)")
    def caller_arn(self) -> str:
        return str(self.clients.sts.get_caller_identity()["Arn"])

    def read(self, config: Config) -> LiveState:
        return LiveState(
            bucket=self.read_bucket(config.bucket.name),
            users=self.read_users(config),
            access_points=self.read_access_points(config),
        )

    # --- bucket ---------------------------------------------------------------------------

    def read_bucket(self, name: str) -> LiveBucket:
        if not self._bucket_exists(name):
            return LiveBucket(name=name, exists=False)
        return LiveBucket(
            name=name,
            exists=True,
            region=self._bucket_region(name),
            encryption=self._encryption(name),
            public_access_block=self._get(
                "get_public_access_block", name, "PublicAccessBlockConfiguration"
            ),
            ownership_controls=self._ownership(name),
            policy=self._policy(name),
        )

    @reading("the bucket (s3:HeadBucket)")
    def _bucket_exists(self, name: str) -> bool:
        try:
            self.clients.s3.head_bucket(Bucket=name)
        except ClientError as err:
            if _absent(err):
                return False
            if error_code(err) in {"403", "AccessDenied", "Forbidden"}:
                raise ClientError(
                    {
                        "Error": {
                            "Code": "AccessDenied",
                            "Message": f"bucket {name} exists but is not accessible with these "
                            "credentials: it may belong to another account (bucket names are "
                            "global), or the role lacks s3:ListBucket on it",
                        }
                    },
                    "HeadBucket",
                ) from err
            raise
        return True

    @reading("the bucket location (s3:GetBucketLocation)")
    def _bucket_region(self, name: str) -> str:
        constraint = self.clients.s3.get_bucket_location(Bucket=name).get("LocationConstraint")
        if not constraint:
            return "us-east-1"
        return "eu-west-1" if constraint == "EU" else str(constraint)

    @reading("the bucket's default encryption (s3:GetEncryptionConfiguration)")
    def _encryption(self, name: str) -> dict[str, Any] | None:
        config = self._get("get_bucket_encryption", name, "ServerSideEncryptionConfiguration")
        if config is None:
            return None
        rules = config.get("Rules") or [{}]
        default = dict(rules[0].get("ApplyServerSideEncryptionByDefault", {}))
        return {k: default[k] for k in ("SSEAlgorithm", "KMSMasterKeyID") if default.get(k)}

    @reading("the bucket's ownership controls (s3:GetBucketOwnershipControls)")
    def _ownership(self, name: str) -> dict[str, Any] | None:
        controls = self._get("get_bucket_ownership_controls", name, "OwnershipControls")
        if controls is None:
            return None
        rules = controls.get("Rules") or [{}]
        return dict(rules[0])

    @reading("the bucket policy (s3:GetBucketPolicy)")
    def _policy(self, name: str) -> dict[str, Any] | None:
        text = self._get("get_bucket_policy", name, "Policy")
        return canonical_policy(text) if text else None

    @reading("a bucket setting")
    def _get(self, operation: str, bucket: str, key: str) -> Any:
        try:
            response = getattr(self.clients.s3, operation)(Bucket=bucket)
        except ClientError as err:
            if _absent(err):
                return None
            raise
        value = response.get(key)
        return dict(value) if isinstance(value, dict) else value

    # --- IAM users ------------------------------------------------------------------------

    @reading("IAM users (iam:GetAccountAuthorizationDetails)")
    def read_users(self, config: Config) -> dict[str, LiveUser]:
        """Users with their tags and inline policies, in bulk. Kept: users under iam_path,
        users carrying our tag, and any user whose name the YAML uses (case-insensitively)."""
        named = {c.iam_user.lower() for c in config.collaborators if c.iam_user}
        users: dict[str, LiveUser] = {}
        paginator = self.clients.iam.get_paginator("get_account_authorization_details")
        for page in paginator.paginate(Filter=["User"]):
            for detail in page.get("UserDetailList", []):
                user = _live_user(detail)
                if (
                    user.path == config.iam_path
                    or is_managed(user.tags)
                    or user.name.lower() in named
                ):
                    users[user.name] = user
        return self._with_access_keys(users, config)

    def _with_access_keys(self, users: dict[str, LiveUser], config: Config) -> dict[str, LiveUser]:
        """Access keys are listed only for suspended collaborators' users (to deactivate them),
        so a no-op plan costs no call per user."""
        suspended = {c.iam_user.lower() for c in config.collaborators if c.iam_user and c.suspended}
        return {
            name: dataclasses.replace(user, access_keys=self._access_keys(name))
            if name.lower() in suspended
            else user
            for name, user in users.items()
        }

    @reading("access keys (iam:ListAccessKeys)")
    def _access_keys(self, user: str) -> dict[str, str]:
        paginator = self.clients.iam.get_paginator("list_access_keys")
        return {
            key["AccessKeyId"]: key["Status"]
            for page in paginator.paginate(UserName=user)
            for key in page.get("AccessKeyMetadata", [])
        }

    # --- access points --------------------------------------------------------------------

    def read_access_points(self, config: Config) -> dict[str, LiveAccessPoint]:
        """Access points on our bucket, and any access point whose name the YAML uses."""
        named = {c.access_point for c in config.collaborators}
        result: dict[str, LiveAccessPoint] = {}
        for item in self._list_access_points(config.account_id):
            name = item["Name"]
            if item.get("Bucket") != config.bucket.name and name not in named:
                continue
            tags = self._access_point_tags(config.account_id, item["AccessPointArn"])
            # every policy is read, ours or not: verify evaluates all of them
            policy = self._access_point_policy(config.account_id, name)
            result[name] = LiveAccessPoint(
                name=name,
                bucket=item.get("Bucket", ""),
                network_origin=item.get("NetworkOrigin", "Internet"),
                vpc_id=(item.get("VpcConfiguration") or {}).get("VpcId"),
                tags=tags,
                policy=policy,
            )
        return result

    @reading("access points (s3:ListAccessPoints)")
    def _list_access_points(self, account_id: str) -> Iterator[dict[str, Any]]:
        # ListAccessPoints has no boto3 paginator: follow NextToken by hand.
        kwargs: dict[str, Any] = {"AccountId": account_id, "MaxResults": 1000}
        items: list[dict[str, Any]] = []
        while True:
            page = self.clients.s3control.list_access_points(**kwargs)
            items.extend(page.get("AccessPointList", []))
            token = page.get("NextToken")
            if not token:
                return iter(items)
            kwargs["NextToken"] = token

    @reading("access point tags (s3:ListTagsForResource)")
    def _access_point_tags(self, account_id: str, arn: str) -> dict[str, str]:
        try:
            response = self.clients.s3control.list_tags_for_resource(
                AccountId=account_id, ResourceArn=arn
            )
        except ClientError as err:
            if _absent(err):
                return {}
            raise
        return tags_to_dict(response.get("Tags"))

    @reading("an access point policy (s3:GetAccessPointPolicy)")
    def _access_point_policy(self, account_id: str, name: str) -> dict[str, Any] | None:
        try:
            response = self.clients.s3control.get_access_point_policy(
                AccountId=account_id, Name=name
            )
        except ClientError as err:
            if _absent(err):
                return None
            raise
        return canonical_policy(response["Policy"])


def _live_user(detail: dict[str, Any]) -> LiveUser:
    inline = {
        p["PolicyName"]: canonical_policy(p["PolicyDocument"]) or {}
        for p in detail.get("UserPolicyList", [])
    }
    return LiveUser(
        name=detail["UserName"],
        path=detail.get("Path", "/"),
        arn=detail.get("Arn", ""),
        tags=tags_to_dict(detail.get("Tags")),
        inline_policies=inline,
        attached_policies=tuple(
            sorted(p["PolicyArn"] for p in detail.get("AttachedManagedPolicies", []))
        ),
        groups=tuple(sorted(detail.get("GroupList", []))),
    )
