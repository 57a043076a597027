"""Reads what the access review reports about IAM users' credentials. Read-only, bounded: per
user one GetUser (creation date, PasswordLastUsed), one GetLoginProfile (is there a console
password?), one ListAccessKeys page (IAM allows at most two keys per user) and one
GetAccessKeyLastUsed per key: at most five calls. Only metadata is read; a secret access key or
password can never be read back from IAM.

IAM API Reference: GetUser (PasswordLastUsed is absent when the password was never used),
GetLoginProfile (NoSuchEntity when the user has no password), ListAccessKeys,
GetAccessKeyLastUsed (LastUsedDate absent and ServiceName "N/A" for a key never used).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from reconciler.aws.errors import error_code, reading
from reconciler.aws.session import Clients
from reconciler.reports.access_report import AccessKey, Credentials, key_suffix
from reconciler.workers import DEFAULT_WORKERS, gather, worker_pool

# GetUser, GetLoginProfile, ListMFADevices (only with a password), ListAccessKeys,
# 2 x GetAccessKeyLastUsed
CALLS_PER_USER_BOUND = 6


class CredentialReader:
    def __init__(self, clients: Clients, *, workers: int = DEFAULT_WORKERS) -> None:
        self.iam = clients.iam
        self.workers = workers

    def read(self, users: Iterable[str]) -> dict[str, Credentials]:
        names = sorted(set(users))
        with worker_pool(self.workers, "reconcile-report") as pool:
            found = gather(pool.submit(self.credentials, name) for name in names)
        return {name: creds for name, creds in zip(names, found, strict=True) if creds}

    def credentials(self, user: str) -> Credentials | None:
        """None when the user does not exist (any more)."""
        details = self._user(user)
        if details is None:
            return None
        password = self._has_password(user)
        return Credentials(
            created=details.get("CreateDate"),
            password=password,
            password_last_used=details.get("PasswordLastUsed"),
            keys=tuple(self._key(user, key) for key in self._keys(user)),
            mfa_devices=self._mfa_devices(user) if password else None,
        )

    @reading("MFA devices (iam:ListMFADevices)")
    def _mfa_devices(self, user: str) -> int:
        """How many MFA devices the user has (serial numbers only; IAM API Reference,
        ListMFADevices). Read only for users with a console password."""
        paginator = self.iam.get_paginator("list_mfa_devices")
        return sum(len(page.get("MFADevices", [])) for page in paginator.paginate(UserName=user))

    @reading("an IAM user (iam:GetUser)")
    def _user(self, user: str) -> dict[str, Any] | None:
        try:
            return dict(self.iam.get_user(UserName=user)["User"])
        except ClientError as err:
            if error_code(err) == "NoSuchEntity":
                return None
            raise

    @reading("a console password's presence (iam:GetLoginProfile)")
    def _has_password(self, user: str) -> bool:
        try:
            self.iam.get_login_profile(UserName=user)
        except ClientError as err:
            if error_code(err) == "NoSuchEntity":
                return False
            raise
        return True

    @reading("access keys (iam:ListAccessKeys)")
    def _keys(self, user: str) -> list[dict[str, Any]]:
        paginator = self.iam.get_paginator("list_access_keys")
        return [
            dict(key)
            for page in paginator.paginate(UserName=user)
            for key in page.get("AccessKeyMetadata", [])
        ]

    @reading("when an access key was last used (iam:GetAccessKeyLastUsed)")
    def _key(self, user: str, key: dict[str, Any]) -> AccessKey:
        used = self.iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
        last = used.get("AccessKeyLastUsed") or {}
        service = last.get("ServiceName")
        when: datetime | None = last.get("LastUsedDate")
        return AccessKey(
            suffix=key_suffix(str(key["AccessKeyId"])),
            status=str(key["Status"]),
            created=key["CreateDate"],
            last_used=when,
            last_service=None if service in (None, "N/A") else str(service),
        )
