"""An in-memory AWS for planner and executor tests: implements Reader and Writer, and can
inject a failure into any write."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import WriteError
from reconciler.model import (
    OPTIONAL_USER_TAG_KEYS,
    STATUS_TAG_KEY,
    Config,
    LiveAccessPoint,
    LiveBucket,
    LiveKey,
    LiveLogBucket,
    LiveState,
    LiveTrail,
    LiveUser,
    canonical_policy,
)


@dataclass
class FakeCloud:
    account_id: str = "123456789012"
    buckets: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_points: dict[str, dict[str, Any]] = field(default_factory=dict)
    # KMS keys by ARN: {"policy": dict, "aliases": [alias names], "state": "Enabled"}
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    # CloudTrail trails by name: {"basic": [selectors], "advanced": [selectors]}
    trails: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    fail: Callable[[str, tuple[Any, ...]], bool] | None = None

    # --- Reader -------------------------------------------------------------------------
    def caller_account(self) -> str:
        return self.account_id

    def read(self, config: Config) -> LiveState:
        b = self.buckets.get(config.bucket.name)
        bucket = (
            LiveBucket(name=config.bucket.name, exists=False)
            if b is None
            else LiveBucket(
                name=config.bucket.name,
                exists=True,
                region=b["region"],
                encryption=copy.deepcopy(b.get("encryption")),
                public_access_block=copy.deepcopy(b.get("pab")),
                ownership_controls=copy.deepcopy(b.get("ownership")),
                policy=canonical_policy(b.get("policy")),
                versioning=copy.deepcopy(b.get("versioning")),
                lifecycle=copy.deepcopy(b.get("lifecycle")),
                logging=copy.deepcopy(b.get("logging")),
            )
        )
        users = {
            name: LiveUser(
                name=name,
                path=u["path"],
                arn=f"arn:aws:iam::{self.account_id}:user{u['path']}{name}",
                tags=dict(u["tags"]),
                inline_policies={k: canonical_policy(v) or {} for k, v in u["policies"].items()},
                access_keys=dict(u.get("keys", {})),
                permissions_boundary=u.get("boundary"),
                groups=tuple(u.get("groups", ())),
            )
            for name, u in self.users.items()
        }
        aps = {
            name: LiveAccessPoint(
                name=name,
                bucket=a["bucket"],
                network_origin=a.get("network_origin", "Internet"),
                vpc_id=a.get("vpc_id"),
                tags=dict(a["tags"]),
                policy=canonical_policy(a.get("policy")),
            )
            for name, a in self.access_points.items()
        }
        return LiveState(
            bucket=bucket,
            users=users,
            access_points=aps,
            kms_key=self._key(config),
            log_bucket=self._log_bucket(config),
            trail=self._trail(config),
        )

    def _trail(self, config: Config) -> LiveTrail | None:
        name = config.bucket.data_events_trail
        if name is None:
            return None
        found = self.trails.get(name)
        if found is None:
            return LiveTrail(name, problem="was not found (TrailNotFoundException)")
        return LiveTrail(
            name,
            arn=f"arn:aws:cloudtrail:us-east-1:{self.account_id}:trail/{name}",
            event_selectors=tuple(copy.deepcopy(found.get("basic", []))),
            advanced_event_selectors=tuple(copy.deepcopy(found.get("advanced", []))),
        )

    def _log_bucket(self, config: Config) -> LiveLogBucket | None:
        logs = config.bucket.access_logs
        if logs is None:
            return None
        found = self.buckets.get(logs.bucket)
        if found is None:
            return LiveLogBucket(name=logs.bucket, exists=False)
        if found.get("account", self.account_id) != self.account_id:
            return LiveLogBucket(name=logs.bucket, exists=True, problem="of another account")
        return LiveLogBucket(
            name=logs.bucket,
            exists=True,
            region=found["region"],
            policy=canonical_policy(found.get("policy")),
        )

    def _key(self, config: Config) -> LiveKey | None:
        """kms:DescribeKey then kms:GetKeyPolicy: a key ARN, or an alias of this account."""
        requested = config.bucket.kms_key_id
        if not config.bucket.kms or requested is None:
            return None
        alias = requested.split(":")[-1]
        for arn, key in self.keys.items():
            if requested == arn or alias in key.get("aliases", ()):
                return LiveKey(
                    requested,
                    arn=arn,
                    state=key.get("state", "Enabled"),
                    policy=copy.deepcopy(key["policy"]),
                    rotation_enabled=key.get("rotation", False),
                )
        return LiveKey(requested, problem=f"NotFoundException: Alias {requested} is not found.")

    # --- Writer -------------------------------------------------------------------------
    def _call(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if self.fail is not None and self.fail(name, args):
            raise WriteError("InternalError", f"injected failure in {name}", "req-fake-1")

    def create_bucket(self, name: str, region: str) -> None:
        self._call("create_bucket", name)
        self.buckets.setdefault(name, {"region": region})

    def put_bucket_encryption(self, bucket: str, value: Mapping[str, Any]) -> None:
        self._call("put_bucket_encryption", bucket)
        self.buckets[bucket]["encryption"] = dict(value)

    def put_public_access_block(self, bucket: str, value: Mapping[str, Any]) -> None:
        self._call("put_public_access_block", bucket)
        self.buckets[bucket]["pab"] = dict(value)

    def put_ownership_controls(self, bucket: str, value: Mapping[str, Any]) -> None:
        self._call("put_ownership_controls", bucket)
        self.buckets[bucket]["ownership"] = dict(value)

    def enable_versioning(self, bucket: str) -> None:
        self._call("enable_versioning", bucket)
        self.buckets[bucket]["versioning"] = {"Status": "Enabled"}

    def put_lifecycle(self, bucket: str, value: Mapping[str, Any]) -> None:
        self._call("put_lifecycle", bucket)
        self.buckets[bucket]["lifecycle"] = copy.deepcopy(dict(value))

    def put_bucket_logging(self, bucket: str, value: Mapping[str, Any]) -> None:
        self._call("put_bucket_logging", bucket)
        self.buckets[bucket]["logging"] = dict(value)

    def put_event_selectors(self, trail: str, selectors: list[Mapping[str, Any]]) -> None:
        self._call("put_event_selectors", trail)
        self.trails[trail] = {"basic": [], "advanced": copy.deepcopy([dict(s) for s in selectors])}

    def put_bucket_policy(self, bucket: str, document: Mapping[str, Any]) -> None:
        self._call("put_bucket_policy", bucket)
        self.buckets[bucket]["policy"] = copy.deepcopy(dict(document))

    def enable_key_rotation(self, key_arn: str) -> None:
        self._call("enable_key_rotation", key_arn)
        self.keys[key_arn]["rotation"] = True

    def put_key_policy(self, key_arn: str, document: Mapping[str, Any]) -> None:
        self._call("put_key_policy", key_arn)
        self.keys[key_arn]["policy"] = copy.deepcopy(dict(document))

    def create_user(
        self,
        name: str,
        path: str,
        tags: Mapping[str, str],
        *,
        permissions_boundary: str | None = None,
    ) -> None:
        self._call("create_user", name)
        self.users[name] = {"path": path, "tags": dict(tags), "policies": {}}
        if permissions_boundary:
            self.users[name]["boundary"] = permissions_boundary

    def update_user(
        self,
        name: str,
        path: str,
        tags: Mapping[str, str],
        *,
        permissions_boundary: str | None = None,
    ) -> None:
        self._call("update_user", name)
        if permissions_boundary:
            self.users[name]["boundary"] = permissions_boundary
        self.users[name]["path"] = path
        self.users[name]["tags"].update(tags)
        for key in OPTIONAL_USER_TAG_KEYS:
            if key not in tags:
                self.users[name]["tags"].pop(key, None)

    def delete_user(self, name: str) -> None:
        self._call("delete_user", name)
        self.users.pop(name, None)

    def put_user_policy(self, user: str, policy_name: str, document: Mapping[str, Any]) -> None:
        self._call("put_user_policy", user, policy_name)
        self.users[user]["policies"][policy_name] = copy.deepcopy(dict(document))

    def delete_user_policy(self, user: str, policy_name: str) -> None:
        self._call("delete_user_policy", user, policy_name)
        if user in self.users:
            self.users[user]["policies"].pop(policy_name, None)

    def deactivate_access_key(self, user: str, key_id: str) -> None:
        self._call("deactivate_access_key", user, key_id)
        self.users[user]["keys"][key_id] = "Inactive"

    def create_access_point(self, name: str, bucket: str, tags: Mapping[str, str]) -> None:
        self._call("create_access_point", name)
        if name in self.access_points:
            raise WriteError("AccessPointAlreadyOwnedByYou", "exists")
        self.access_points[name] = {"bucket": bucket, "tags": dict(tags), "policy": None}

    def tag_access_point(self, name: str, tags: Mapping[str, str]) -> None:
        self._call("tag_access_point", name)
        self.access_points[name]["tags"].update(tags)
        if STATUS_TAG_KEY not in tags:
            self.access_points[name]["tags"].pop(STATUS_TAG_KEY, None)

    def delete_access_point(self, name: str) -> None:
        self._call("delete_access_point", name)
        self.access_points.pop(name, None)

    def put_access_point_policy(self, name: str, document: Mapping[str, Any]) -> None:
        self._call("put_access_point_policy", name)
        self.access_points[name]["policy"] = copy.deepcopy(dict(document))

    def delete_access_point_policy(self, name: str) -> None:
        self._call("delete_access_point_policy", name)
        if name in self.access_points:
            self.access_points[name]["policy"] = None
