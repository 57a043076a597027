"""Reads what `reconcile import` needs: a bucket's settings, its access points with their
policies and tags, the account's IAM users (path, policies, groups) and the CloudTrail trails
whose event selectors may record the bucket's data events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from reconciler.aws.errors import error_code, error_message, reading
from reconciler.aws.reader import AwsReader
from reconciler.aws.session import Clients
from reconciler.errors import ReconcilerError
from reconciler.importer import Discovery, FoundTrail, FoundUser, TrailSearch
from reconciler.model import LiveAccessPoint

# What CloudTrail answers a caller whose policy lacks the action (CloudTrail API Reference,
# Common Errors: AccessDeniedException; older SDKs and proxies say AccessDenied).
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
_NO_TRAIL = {"TrailNotFoundException", "InvalidTrailNameException"}


@dataclass(frozen=True)
class _Failure:
    """A CloudTrail call that was refused or found nothing: import carries on without it."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code


class Discoverer:
    def __init__(self, clients: Clients, account_id: str) -> None:
        self.clients = clients
        self.account_id = account_id
        self.reader = AwsReader(clients)

    def bucket_region(self, bucket: str) -> str:
        if not self.reader._bucket_exists(bucket):
            raise ReconcilerError(
                f"bucket {bucket} does not exist in account {self.account_id} (or is not "
                "visible to these credentials): check --bucket and --account"
            )
        return self.reader._bucket_region(bucket)

    def discover(self, bucket: str, region: str, *, trail: str | None = None) -> Discovery:
        """`trail`: the trail the operator named (--trail): only that one is read."""
        return Discovery(
            account_id=self.account_id,
            region=region,
            bucket=bucket,
            encryption=self.reader._encryption(bucket),
            access_points=self.access_points(bucket),
            users=self.users(),
            versioning=self.reader._versioning(bucket),
            lifecycle=self.reader._lifecycle(bucket),
            logging=self.reader._logging(bucket),
            trails=self.named_trail(trail, region) if trail else self.trails(region),
        )

    # --- CloudTrail trails (bucket.data_events_trail) -------------------------------------------

    def trails(self, region: str) -> TrailSearch:
        """Every trail ListTrails shows; the selectors of those of this account whose home
        Region is `region` (the only ones the tool can keep its selector in). Listing denied:
        a TrailSearch saying so, not an error (import goes on without data_events_trail and
        says how to name the trail)."""
        listed = self._list_trails()
        if isinstance(listed, _Failure):
            return TrailSearch(problem=f"cloudtrail:ListTrails: {listed}")
        found = []
        for item in sorted(listed, key=lambda t: str(t.get("Name"))):
            name, arn = str(item["Name"]), str(item.get("TrailARN") or "")
            home = str(item.get("HomeRegion") or region)
            if home == region and arn.split(":")[4:5] == [self.account_id]:
                found.append(self._trail(name, arn, home))
            else:
                found.append(FoundTrail(name=name, arn=arn, home_region=home, read=False))
        return TrailSearch(trails=tuple(found))

    def named_trail(self, name: str, region: str) -> TrailSearch:
        """--trail NAME: that trail only; one that does not exist is an error naming it."""
        answer = self._event_selectors(name)
        if isinstance(answer, _Failure) and answer.code in _NO_TRAIL:
            raise ReconcilerError(
                f"--trail {name}: there is no trail {name} whose home Region is {region} in "
                f"account {self.account_id} ({answer.code}); `aws cloudtrail list-trails "
                f"--region {region}` lists them, or leave --trail out to look them up"
            )
        return TrailSearch(trails=(_found_trail(name, "", region, answer),), named=name)

    def _trail(self, name: str, arn: str, home: str) -> FoundTrail:
        return _found_trail(name, arn, home, self._event_selectors(name))

    @reading("the CloudTrail trails (cloudtrail:ListTrails)")
    def _list_trails(self) -> list[dict[str, Any]] | _Failure:
        paginator = self.clients.cloudtrail.get_paginator("list_trails")
        try:
            return [t for page in paginator.paginate() for t in page.get("Trails", [])]
        except ClientError as err:
            if error_code(err) in _DENIED:
                return _Failure(error_code(err), error_message(err))
            raise

    @reading("a trail's event selectors (cloudtrail:GetEventSelectors)")
    def _event_selectors(self, name: str) -> dict[str, Any] | _Failure:
        """By name: the client's Region is the bucket's, the trail's home Region."""
        try:
            return dict(self.clients.cloudtrail.get_event_selectors(TrailName=name))
        except ClientError as err:
            if error_code(err) in _DENIED | _NO_TRAIL:
                return _Failure(error_code(err), error_message(err))
            raise

    def access_points(self, bucket: str) -> list[LiveAccessPoint]:
        result = []
        for item in self.reader.list_access_points(self.account_id):
            if item.get("Bucket") != bucket:
                continue
            name = item["Name"]
            result.append(
                LiveAccessPoint(
                    name=name,
                    bucket=bucket,
                    network_origin=item.get("NetworkOrigin", "Internet"),
                    vpc_id=(item.get("VpcConfiguration") or {}).get("VpcId"),
                    tags=self.reader._access_point_tags(self.account_id, item["AccessPointArn"]),
                    policy=self.reader._access_point_policy(self.account_id, name),
                )
            )
        return result

    @reading("IAM users (iam:GetAccountAuthorizationDetails)")
    def users(self) -> dict[str, FoundUser]:
        paginator = self.clients.iam.get_paginator("get_account_authorization_details")
        users = {}
        for page in paginator.paginate(Filter=["User"]):
            for detail in page.get("UserDetailList", []):
                users[detail["UserName"]] = _found_user(detail)
        return users


def _found_user(detail: dict[str, Any]) -> FoundUser:
    return FoundUser(
        name=detail["UserName"],
        path=detail.get("Path", "/"),
        inline_policies=tuple(sorted(p["PolicyName"] for p in detail.get("UserPolicyList", []))),
        managed_policies=tuple(
            sorted(p["PolicyName"] for p in detail.get("AttachedManagedPolicies", []))
        ),
        groups=tuple(sorted(detail.get("GroupList", []))),
        tags={t["Key"]: t["Value"] for t in detail.get("Tags", [])},
        permissions_boundary=(detail.get("PermissionsBoundary") or {}).get(
            "PermissionsBoundaryArn"
        ),
    )


def _found_trail(name: str, arn: str, home: str, answer: dict[str, Any] | _Failure) -> FoundTrail:
    if isinstance(answer, _Failure):
        return FoundTrail(name=name, arn=arn, home_region=home, problem=str(answer))
    return FoundTrail(
        name=name,
        arn=str(answer.get("TrailARN") or arn),
        home_region=home,
        event_selectors=tuple(answer.get("EventSelectors") or ()),
        advanced_event_selectors=tuple(answer.get("AdvancedEventSelectors") or ()),
    )
