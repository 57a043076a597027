"""Makes the changes of a plan in AWS. Every method raises WriteError on failure."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from reconciler.aws.errors import error_code, error_message, request_id, writing
from reconciler.aws.session import Clients
from reconciler.documents.policies import policy_text
from reconciler.errors import WriteError
from reconciler.model import OPTIONAL_USER_TAG_KEYS, STATUS_TAG_KEY

# A principal created seconds ago can be rejected in a policy for up to about a minute
# (IAM is eventually consistent): poll with bounded backoff instead of failing or sleeping blindly.
PRINCIPAL_WAIT_SECONDS = 120.0
_IGNORED_ON_DELETE = {"NoSuchEntity", "NoSuchAccessPoint", "NoSuchAccessPointPolicy"}


def _not_yet_visible(err: ClientError) -> bool:
    """IAM and S3 Control are eventually consistent: a principal or access point created
    seconds ago can still be unknown to the next call."""
    code = error_code(err)
    if code == "NoSuchAccessPoint":
        return True
    return code.startswith("MalformedPolicy") and "principal" in error_message(err).lower()


def rejected_principals(document: Mapping[str, Any], aws_message: str) -> str:
    """PutKeyPolicy fails as a whole when one principal no longer exists, and KMS does not say
    which ("Policy contains a statement with one or more invalid principals"): the message
    names the principals our statements list, those AWS names in its message first."""
    named: list[str] = []
    raw = document.get("Statement", [])
    for statement in [raw] if isinstance(raw, Mapping) else list(raw):
        if not str(statement.get("Sid", "")).startswith("Reconciler"):
            continue
        principal = statement.get("Principal", {})
        arns = principal.get("AWS", []) if isinstance(principal, Mapping) else []
        named += [arns] if isinstance(arns, str) else list(arns)
    quoted = [a for a in named if a in aws_message]
    if quoted:
        return f"KMS rejects principal {', '.join(quoted)} in the key policy: {aws_message}"
    return (
        f"{aws_message} (KMS does not say which principal; the tool's statements name "
        f"{', '.join(sorted(set(named))) or 'none'}: one of them was probably deleted or "
        "renamed; ask its account, then suspend or fix that collaborator: "
        "docs/troubleshooting.md)"
    )


def _tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def lifecycle_request(value: Mapping[str, Any]) -> dict[str, Any]:
    """canonical_lifecycle() form -> PutBucketLifecycleConfiguration parameters."""
    rules = [
        dict(rule) if rid.startswith("(no ID ") else {"ID": rid, **rule}
        for rid, rule in value.get("Rules", {}).items()
    ]
    request: dict[str, Any] = {"LifecycleConfiguration": {"Rules": rules}}
    if value.get("TransitionDefaultMinimumObjectSize"):
        request["TransitionDefaultMinimumObjectSize"] = value["TransitionDefaultMinimumObjectSize"]
    return request


class AwsWriter:
    def __init__(
        self,
        clients: Clients,
        account_id: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        principal_wait: float = PRINCIPAL_WAIT_SECONDS,
    ) -> None:
        self.s3 = clients.s3
        self.s3control = clients.s3control
        self.iam = clients.iam
        self._clients = clients
        self.account_id = account_id
        self._sleep = sleep
        self._principal_wait = principal_wait

    @property
    def kms(self) -> Any:
        return self._clients.kms

    # --- bucket ---------------------------------------------------------------------------

    @writing
    def create_bucket(self, name: str, region: str) -> None:
        kwargs: dict[str, Any] = {"Bucket": name}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.s3.create_bucket(**kwargs)
        except ClientError as err:
            if error_code(err) != "BucketAlreadyOwnedByYou":
                raise

    @writing
    def put_bucket_encryption(self, bucket: str, value: Mapping[str, Any]) -> None:
        default = {k: v for k, v in value.items() if k != "BucketKeyEnabled"}
        rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": default}
        if value.get("SSEAlgorithm") == "aws:kms":
            rule["BucketKeyEnabled"] = True
        self.s3.put_bucket_encryption(
            Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [rule]}
        )

    @writing
    def put_public_access_block(self, bucket: str, value: Mapping[str, Any]) -> None:
        self.s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=dict(value))

    @writing
    def put_ownership_controls(self, bucket: str, value: Mapping[str, Any]) -> None:
        self.s3.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls={"Rules": [dict(value)]}
        )

    @writing
    def enable_versioning(self, bucket: str) -> None:
        """Only ever Enabled: the tool never suspends versioning (MFADelete is left as it is)."""
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    @writing
    def put_lifecycle(self, bucket: str, value: Mapping[str, Any]) -> None:
        """The whole configuration (the planner merged the rules it keeps into `value`)."""
        self.s3.put_bucket_lifecycle_configuration(Bucket=bucket, **lifecycle_request(value))

    @writing
    def put_bucket_logging(self, bucket: str, value: Mapping[str, Any]) -> None:
        """Server access logging into value's TargetBucket/TargetPrefix (no target grants: the
        log bucket's policy grants the logging service, S3 User Guide, "Enabling Amazon S3
        server access logging")."""
        enabled = {"TargetBucket": value["TargetBucket"], "TargetPrefix": value["TargetPrefix"]}
        self.s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": enabled})

    @writing
    def put_event_selectors(self, trail: str, selectors: list[Mapping[str, Any]]) -> None:
        """The trail's advanced event selectors, all of them (the planner kept the others)."""
        self._clients.cloudtrail.put_event_selectors(
            TrailName=trail, AdvancedEventSelectors=[dict(s) for s in selectors]
        )

    @writing
    def put_bucket_policy(self, bucket: str, document: Mapping[str, Any]) -> None:
        policy = policy_text(document)
        self._until_visible(lambda: self.s3.put_bucket_policy(Bucket=bucket, Policy=policy))

    @writing
    def put_key_policy(self, key_arn: str, document: Mapping[str, Any]) -> None:
        """The lockout safety check stays on: KMS refuses a policy that would keep the caller
        from changing it again (AWS KMS API Reference, PutKeyPolicy,
        BypassPolicyLockoutSafetyCheck)."""
        policy = policy_text(document)
        try:
            self._until_visible(
                lambda: self.kms.put_key_policy(
                    KeyId=key_arn,
                    PolicyName="default",
                    Policy=policy,
                    BypassPolicyLockoutSafetyCheck=False,
                )
            )
        except ClientError as err:
            if not _not_yet_visible(err):
                raise
            raise WriteError(
                error_code(err), rejected_principals(document, error_message(err)), request_id(err)
            ) from err

    @writing
    def enable_key_rotation(self, key_arn: str) -> None:
        """Automatic yearly rotation of the key material (AWS KMS API Reference,
        EnableKeyRotation); never turned off by this tool."""
        self.kms.enable_key_rotation(KeyId=key_arn)

    # --- IAM users ------------------------------------------------------------------------

    @writing
    def create_user(
        self,
        name: str,
        path: str,
        tags: Mapping[str, str],
        *,
        permissions_boundary: str | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {"UserName": name, "Path": path, "Tags": _tag_list(tags)}
        if permissions_boundary:
            kwargs["PermissionsBoundary"] = permissions_boundary
        self.iam.create_user(**kwargs)

    @writing
    def update_user(
        self,
        name: str,
        path: str,
        tags: Mapping[str, str],
        *,
        permissions_boundary: str | None = None,
    ) -> None:
        current = self.iam.get_user(UserName=name)["User"]
        live_boundary = (current.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if permissions_boundary and live_boundary != permissions_boundary:
            # first, so that the inline policy written next is already bounded (and the apply
            # role may only write inline policies of users that carry this boundary)
            self.iam.put_user_permissions_boundary(
                UserName=name, PermissionsBoundary=permissions_boundary
            )
        if current.get("Path") != path:
            self.iam.update_user(UserName=name, NewPath=path)
        self.iam.tag_user(UserName=name, Tags=_tag_list(tags))
        live_keys = {t["Key"] for t in current.get("Tags", [])}
        dropped = [k for k in OPTIONAL_USER_TAG_KEYS if k in live_keys and k not in tags]
        if dropped:  # re-activation, or `expires` removed from the YAML
            self.iam.untag_user(UserName=name, TagKeys=dropped)

    @writing
    def delete_user(self, name: str) -> None:
        """Remove everything DeleteUser would refuse to delete over, then the user."""
        iam = self.iam
        try:
            iam.get_user(UserName=name)
        except ClientError as err:
            if error_code(err) == "NoSuchEntity":
                return
            raise
        for key in self._pages("list_access_keys", "AccessKeyMetadata", UserName=name):
            iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        self._ignore_missing(iam.delete_login_profile, UserName=name)
        for mfa in self._pages("list_mfa_devices", "MFADevices", UserName=name):
            serial = mfa["SerialNumber"]
            iam.deactivate_mfa_device(UserName=name, SerialNumber=serial)
            if ":mfa/" in serial:
                self._ignore_missing(iam.delete_virtual_mfa_device, SerialNumber=serial)
        for cert in self._pages("list_signing_certificates", "Certificates", UserName=name):
            iam.delete_signing_certificate(UserName=name, CertificateId=cert["CertificateId"])
        for key in self._pages("list_ssh_public_keys", "SSHPublicKeys", UserName=name):
            iam.delete_ssh_public_key(UserName=name, SSHPublicKeyId=key["SSHPublicKeyId"])
        # The tool never takes a user out of a group (it does not know what the group is for,
        # and its role has no iam:RemoveUserFromGroup): the planner refuses to delete a user in
        # a group; this catches one that joined a group since the plan.
        groups = [
            g["GroupName"] for g in self._pages("list_groups_for_user", "Groups", UserName=name)
        ]
        if groups:
            raise WriteError(
                "DeleteConflict",
                f"IAM user {name} is in IAM group(s) {', '.join(groups)} and this tool never "
                "removes users from groups: remove it from them and apply again",
            )
        for policy in self._pages("list_attached_user_policies", "AttachedPolicies", UserName=name):
            iam.detach_user_policy(UserName=name, PolicyArn=policy["PolicyArn"])
        for policy_name in self._pages("list_user_policies", "PolicyNames", UserName=name):
            iam.delete_user_policy(UserName=name, PolicyName=policy_name)
        try:
            self._ignore_missing(iam.delete_user, UserName=name)
        except ClientError as err:
            if error_code(err) != "DeleteConflict":
                raise
            # Rare leftovers (CodeCommit/Keyspaces credentials) are only looked up when needed.
            creds = iam.list_service_specific_credentials(UserName=name)
            for cred in creds.get("ServiceSpecificCredentials", []):
                iam.delete_service_specific_credential(
                    UserName=name, ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"]
                )
            iam.delete_user(UserName=name)

    @writing
    def put_user_policy(self, user: str, policy_name: str, document: Mapping[str, Any]) -> None:
        self.iam.put_user_policy(
            UserName=user, PolicyName=policy_name, PolicyDocument=policy_text(document)
        )

    @writing
    def delete_user_policy(self, user: str, policy_name: str) -> None:
        self._ignore_missing(self.iam.delete_user_policy, UserName=user, PolicyName=policy_name)

    @writing
    def deactivate_access_key(self, user: str, key_id: str) -> None:
        self.iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Inactive")

    # --- access points --------------------------------------------------------------------

    @writing
    def create_access_point(self, name: str, bucket: str, tags: Mapping[str, str]) -> None:
        self.s3control.create_access_point(
            AccountId=self.account_id,
            Name=name,
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
            Tags=_tag_list(tags),
        )

    @writing
    def tag_access_point(self, name: str, tags: Mapping[str, str]) -> None:
        arn = self.s3control.get_access_point(AccountId=self.account_id, Name=name)[
            "AccessPointArn"
        ]
        self.s3control.tag_resource(
            AccountId=self.account_id, ResourceArn=arn, Tags=_tag_list(tags)
        )
        if STATUS_TAG_KEY not in tags:  # re-activation: drop the suspension marker
            self.s3control.untag_resource(
                AccountId=self.account_id, ResourceArn=arn, TagKeys=[STATUS_TAG_KEY]
            )

    @writing
    def delete_access_point(self, name: str) -> None:
        self._ignore_missing(
            self.s3control.delete_access_point, AccountId=self.account_id, Name=name
        )

    @writing
    def put_access_point_policy(self, name: str, document: Mapping[str, Any]) -> None:
        policy = policy_text(document)
        self._until_visible(
            lambda: self.s3control.put_access_point_policy(
                AccountId=self.account_id, Name=name, Policy=policy
            )
        )

    @writing
    def delete_access_point_policy(self, name: str) -> None:
        self._ignore_missing(
            self.s3control.delete_access_point_policy, AccountId=self.account_id, Name=name
        )

    # --- helpers --------------------------------------------------------------------------

    def _until_visible(self, call: Callable[[], Any]) -> None:
        """Retry a policy write while a new principal or access point has not propagated."""
        deadline = time.monotonic() + self._principal_wait
        delay = 1.0
        while True:
            try:
                call()
                return
            except ClientError as err:
                if not _not_yet_visible(err) or time.monotonic() + delay > deadline:
                    raise
            self._sleep(delay)
            delay = min(delay * 2, 15.0)

    @staticmethod
    def _ignore_missing(call: Callable[..., Any], **kwargs: Any) -> None:
        try:
            call(**kwargs)
        except ClientError as err:
            if error_code(err) not in _IGNORED_ON_DELETE:
                raise

    def _pages(self, operation: str, key: str, **kwargs: Any) -> list[Any]:
        paginator = self.iam.get_paginator(operation)
        return [item for page in paginator.paginate(**kwargs) for item in page.get(key, [])]
