"""Reads the live state relevant to a Config. "Not found" is a state, not an error.

Calls: users with their inline policies come in bulk (GetAccountAuthorizationDetails), access
points from ListAccessPoints pages, the bucket in six calls; then one GetAccessPointPolicy per
access point the YAML names. Tags are read only where ownership is still unknown (see
read_access_points). Independent calls run on a bounded pool of worker threads that share the
(thread-safe) botocore clients.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from reconciler.aws.errors import error_code, reading
from reconciler.aws.keys import read_key
from reconciler.aws.session import Clients
from reconciler.model import (
    Collaborator,
    Config,
    LiveAccessPoint,
    LiveBucket,
    LiveLogBucket,
    LiveState,
    LiveTrail,
    LiveUser,
    OwnershipProof,
    canonical_lifecycle,
    canonical_policy,
    is_managed,
)
from reconciler.plan.planner import access_point_in_sync
from reconciler.workers import DEFAULT_WORKERS, gather, worker_pool

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
    "NoSuchLifecycleConfiguration",
}


def _absent(err: ClientError) -> bool:
    return error_code(err) in _ABSENT


def tags_to_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


# GetAccountAuthorizationDetails returns at most 1,000 items a page (the default is 100);
# ListAccessPoints at most 1,000 (IAM and S3 Control API references).
USERS_PAGE_SIZE = 1000
ACCESS_POINTS_PAGE_SIZE = 1000


class AwsReader:
    def __init__(
        self, clients: Clients, *, workers: int = DEFAULT_WORKERS, verify_tags: bool = False
    ) -> None:
        """verify_tags: read the tags of every access point, even one already in sync (one
        more call per collaborator; finds managed-by tags removed by hand)."""
        self.clients = clients
        self.workers = workers
        self.verify_tags = verify_tags

    @reading("the caller identity (sts:GetCallerIdentity)")
    def caller_account(self) -> str:
        return str(self.clients.identity["Account"])

    @reading("the caller identity (sts:GetCallerIdentity)")
    def caller_arn(self) -> str:
        return str(self.clients.identity["Arn"])

    def read(self, config: Config) -> LiveState:
        with worker_pool(self.workers, "reconcile-read") as pool:
            bucket = pool.submit(self.read_bucket, config.bucket.name)
            users = pool.submit(self.read_users, config)
            key = pool.submit(read_key, self.clients, config)
            log_bucket = pool.submit(self.read_log_bucket, config)
            trail = pool.submit(self.read_trail, config)
            listing = pool.submit(self._submit_access_points, config, pool)
            access_points = {ap.name: ap for ap in gather(listing.result())}
            return LiveState(
                bucket=bucket.result(),
                users=users.result(),
                access_points=access_points,
                kms_key=key.result(),
                log_bucket=log_bucket.result(),
                trail=trail.result(),
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
            versioning=self._versioning(name),
            lifecycle=self._lifecycle(name),
            logging=self._logging(name),
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
        value = {k: default[k] for k in ("SSEAlgorithm", "KMSMasterKeyID") if default.get(k)}
        if rules[0].get("BucketKeyEnabled"):
            value["BucketKeyEnabled"] = True
        return value

    @reading("the bucket's ownership controls (s3:GetBucketOwnershipControls)")
    def _ownership(self, name: str) -> dict[str, Any] | None:
        controls = self._get("get_bucket_ownership_controls", name, "OwnershipControls")
        if controls is None:
            return None
        rules = controls.get("Rules") or [{}]
        return dict(rules[0])

    @reading("the bucket's versioning (s3:GetBucketVersioning)")
    def _versioning(self, name: str) -> dict[str, Any] | None:
        """{"Status": "Enabled" | "Suspended"}; None when versioning was never enabled (the
        response then has no Status)."""
        status = self.clients.s3.get_bucket_versioning(Bucket=name).get("Status")
        return {"Status": str(status)} if status else None

    @reading("the bucket's lifecycle configuration (s3:GetLifecycleConfiguration)")
    def _lifecycle(self, name: str) -> dict[str, Any] | None:
        try:
            response = self.clients.s3.get_bucket_lifecycle_configuration(Bucket=name)
        except ClientError as err:
            if _absent(err):
                return None
            raise
        return canonical_lifecycle(response)

    @reading("the bucket's server access logging (s3:GetBucketLogging)")
    def _logging(self, name: str) -> dict[str, Any] | None:
        enabled = self.clients.s3.get_bucket_logging(Bucket=name).get("LoggingEnabled")
        if not enabled:
            return None
        return {k: enabled.get(k, "") for k in ("TargetBucket", "TargetPrefix")}

    def read_log_bucket(self, config: Config) -> LiveLogBucket | None:
        """The log bucket of bucket.access_logs: does it exist in this account (HeadBucket with
        ExpectedBucketOwner), where, and its policy."""
        logs = config.bucket.access_logs
        if logs is None:
            return None
        name = logs.bucket
        problem = self._log_bucket_problem(name, config.account_id)
        if problem == "absent":
            return LiveLogBucket(name=name, exists=False)
        if problem:
            return LiveLogBucket(name=name, exists=True, problem=problem)
        return LiveLogBucket(
            name=name, exists=True, region=self._bucket_region(name), policy=self._policy(name)
        )

    @reading("the trail's event selectors (cloudtrail:GetEventSelectors)")
    def read_trail(self, config: Config) -> LiveTrail | None:
        """The trail of bucket.data_events_trail, by name in the configured Region (a trail's
        selectors can only be changed in its home Region)."""
        name = config.bucket.data_events_trail
        if name is None:
            return None
        try:
            found = self.clients.cloudtrail.get_event_selectors(TrailName=name)
        except ClientError as err:
            if error_code(err) in {"TrailNotFoundException", "InvalidTrailNameException"}:
                return LiveTrail(name, problem=f"was not found ({error_code(err)})")
            raise
        return LiveTrail(
            name,
            arn=str(found.get("TrailARN") or ""),
            event_selectors=tuple(found.get("EventSelectors") or ()),
            advanced_event_selectors=tuple(found.get("AdvancedEventSelectors") or ()),
        )

    @reading("the log bucket (s3:HeadBucket)")
    def _log_bucket_problem(self, name: str, account_id: str) -> str:
        try:
            self.clients.s3.head_bucket(Bucket=name, ExpectedBucketOwner=account_id)
        except ClientError as err:
            if _absent(err):
                return "absent"
            if error_code(err) in {"403", "AccessDenied", "Forbidden"}:
                return (
                    f"it is not a bucket of account {account_id} (or this role may not read "
                    "it): S3 delivers server access logs only to a bucket of the source "
                    "bucket's own account"
                )
            raise
        return ""

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
        pages = paginator.paginate(Filter=["User"], PaginationConfig={"PageSize": USERS_PAGE_SIZE})
        for page in pages:
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
            name: replace(user, access_keys=self._access_keys(name))
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

    def _submit_access_points(
        self, config: Config, pool: ThreadPoolExecutor
    ) -> list[Future[LiveAccessPoint]]:
        """List the access points; each relevant one is read on the pool as soon as its
        ListAccessPoints page arrives."""
        wanted = {c.access_point: c for c in config.collaborators}
        futures: list[Future[LiveAccessPoint]] = []
        for items in self._access_point_pages(config.account_id):
            for item in items:
                if item.get("Bucket") == config.bucket.name or item["Name"] in wanted:
                    listed = _listed_access_point(item)
                    collab = wanted.get(listed.name)
                    futures.append(pool.submit(self._read_access_point, config, listed, collab))
        return futures

    def _read_access_point(
        self, config: Config, listed: LiveAccessPoint, collab: Collaborator | None
    ) -> LiveAccessPoint:
        """Ownership with as few calls as it can be proven.

        An access point the YAML names costs one call, its policy, when it is already in sync:
        its bucket, network origin and policy equal exactly what we would write. Then there is
        nothing to write to it, so who owns it does not matter for this plan, and its tags are
        not read (the planner refuses to change an access point whose tags were not read). In
        every other case the tags are read and decide, as before: an untagged access point the
        YAML names is an error, an untagged one it does not name is left alone. The safety
        argument in full: docs/performance.md, "Ownership without reading every access
        point's tags".
        """
        account = config.account_id
        if collab is not None and not self.verify_tags:
            policy = self._access_point_policy(account, listed.name)
            candidate = replace(listed, policy=policy, proof=OwnershipProof.IN_SYNC)
            if access_point_in_sync(config, collab, candidate):
                return candidate
            tags = self._access_point_tags(account, listed.arn)
            return replace(listed, policy=policy, tags=tags)
        # every other access point on the bucket: tags and policy, ours or not (verify and the
        # security gate evaluate every access point that could admit someone)
        tags = self._access_point_tags(account, listed.arn)
        return replace(listed, tags=tags, policy=self._access_point_policy(account, listed.name))

    def list_access_points(self, account_id: str) -> list[dict[str, Any]]:
        """Every access point of the account and Region, all pages."""
        return [item for page in self._access_point_pages(account_id) for item in page]

    def _access_point_pages(self, account_id: str) -> Iterator[list[dict[str, Any]]]:
        # ListAccessPoints has no boto3 paginator: follow NextToken by hand.
        token: str | None = None
        while True:
            page, token = self._list_access_points_page(account_id, token)
            yield page
            if not token:
                return

    @reading("access points (s3:ListAccessPoints)")
    def _list_access_points_page(
        self, account_id: str, token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        kwargs: dict[str, Any] = {"AccountId": account_id, "MaxResults": ACCESS_POINTS_PAGE_SIZE}
        if token:
            kwargs["NextToken"] = token
        page = self.clients.s3control.list_access_points(**kwargs)
        return list(page.get("AccessPointList", [])), page.get("NextToken") or None

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


def _listed_access_point(item: Mapping[str, Any]) -> LiveAccessPoint:
    """What ListAccessPoints tells: everything but tags and policy."""
    return LiveAccessPoint(
        name=item["Name"],
        bucket=item.get("Bucket", ""),
        network_origin=item.get("NetworkOrigin", "Internet"),
        vpc_id=(item.get("VpcConfiguration") or {}).get("VpcId"),
        tags={},
        policy=None,
        arn=item.get("AccessPointArn", ""),
        alias=item.get("Alias", ""),
    )


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
        permissions_boundary=(detail.get("PermissionsBoundary") or {}).get(
            "PermissionsBoundaryArn"
        ),
    )
