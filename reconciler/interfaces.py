"""The narrow interfaces the core needs from the outside world (implemented in reconciler/aws/
and, for tests, by an in-memory fake)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from reconciler.model import Config, LiveState


class Reader(Protocol):
    def caller_account(self) -> str: ...

    def read(self, config: Config) -> LiveState: ...


class Writer(Protocol):
    def create_bucket(self, name: str, region: str) -> None: ...

    def put_bucket_encryption(self, bucket: str, value: Mapping[str, Any]) -> None: ...

    def put_public_access_block(self, bucket: str, value: Mapping[str, Any]) -> None: ...

    def put_ownership_controls(self, bucket: str, value: Mapping[str, Any]) -> None: ...

    def enable_versioning(self, bucket: str) -> None:
        """Versioning Enabled (never suspended)."""

    def put_lifecycle(self, bucket: str, value: Mapping[str, Any]) -> None:
        """The whole lifecycle configuration (canonical_lifecycle form, foreign rules included)."""

    def put_bucket_logging(self, bucket: str, value: Mapping[str, Any]) -> None:
        """Server access logging on ({"TargetBucket", "TargetPrefix"}); never turned off."""

    def put_event_selectors(self, trail: str, selectors: list[Mapping[str, Any]]) -> None:
        """Every advanced event selector of the trail (the planner kept the others)."""

    def enable_key_rotation(self, key_arn: str) -> None:
        """Automatic rotation of the KMS key (never turned off)."""

    def put_bucket_policy(self, bucket: str, document: Mapping[str, Any]) -> None: ...

    def put_key_policy(self, key_arn: str, document: Mapping[str, Any]) -> None: ...

    def create_user(
        self,
        name: str,
        path: str,
        tags: Mapping[str, str],
        *,
        permissions_boundary: str | None = None,
    ) -> None: ...

    def update_user(
        self,
        name: str,
        path: str,
        tags: Mapping[str, str],
        *,
        permissions_boundary: str | None = None,
    ) -> None:
        """Set the path and our tags; our status tag is removed when `tags` lacks it. A
        permissions_boundary is set when given (None: the user's boundary is left as it is)."""

    def delete_user(self, name: str) -> None:
        """Tear the user down completely (keys, login profile, MFA, groups, policies...)."""

    def put_user_policy(self, user: str, policy_name: str, document: Mapping[str, Any]) -> None: ...

    def delete_user_policy(self, user: str, policy_name: str) -> None: ...

    def deactivate_access_key(self, user: str, key_id: str) -> None: ...

    def create_access_point(self, name: str, bucket: str, tags: Mapping[str, str]) -> None: ...

    def tag_access_point(self, name: str, tags: Mapping[str, str]) -> None:
        """Set our tags; our status tag is removed when `tags` lacks it."""

    def delete_access_point(self, name: str) -> None: ...

    def put_access_point_policy(self, name: str, document: Mapping[str, Any]) -> None: ...

    def delete_access_point_policy(self, name: str) -> None: ...
