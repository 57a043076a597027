"""Reads what `reconcile import` needs: a bucket's settings, its access points with their
policies and tags, and the account's IAM users (path, policies, groups)."""

from __future__ import annotations

from typing import Any

from reconciler.aws.errors import reading
from reconciler.aws.reader import AwsReader
from reconciler.aws.session import Clients
from reconciler.errors import ReconcilerError
from reconciler.importer import Discovery, FoundUser
from reconciler.model import LiveAccessPoint


class Discoverer:
    def __init__(self, clients: Clients, account_id: str) -> None:
        self.clients = clients
        self.account_id = account_id
        self.reader = AwsReader(clients)

    def bucket_region(self, bucket: str) -> str:
        if not self.reader._bucket_exists(bucket):
            raise ReconcilerError(f"bucket {bucket} does not exist (or is not visible here)")
        return self.reader._bucket_region(bucket)

    def discover(self, bucket: str, region: str) -> Discovery:
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
        )

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
