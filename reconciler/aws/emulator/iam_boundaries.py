"""IAM user permissions boundaries for moto, which (5.2.5) drops them: CreateUser ignores
`PermissionsBoundary`, PutUserPermissionsBoundary and DeleteUserPermissionsBoundary are not
implemented, GetUser and GetAccountAuthorizationDetails return none (roles keep theirs).

`install()` adds them to moto's IAM backend and responses, as the IAM API reference describes
(CreateUser, PutUserPermissionsBoundary, DeleteUserPermissionsBoundary, GetUser, UserDetail):

- the boundary is the ARN of a managed policy; a malformed ARN is refused (InvalidInput) and a
  policy that does not exist is refused (NoSuchEntity, "does not exist or is not attachable");
- GetUser, CreateUser and GetAccountAuthorizationDetails return it as
  `PermissionsBoundary: {PermissionsBoundaryType: PermissionsBoundaryPolicy,
  PermissionsBoundaryArn}`; ListUsers does not (ListUsers returns no boundary or tags);
- DeleteUserPermissionsBoundary removes it; on a missing user both calls fail (NoSuchEntity).

Used by the embedded sandbox and by the tests (in-process moto and the moto server). Installing
twice changes nothing. Only the IAM behaviour above is changed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_INSTALLED = False
_POLICY_ARN = re.compile(r"^arn:aws:iam::(aws|[0-9]{12}):policy/(.*/)?[\w+=,.@-]{1,128}$")


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.core.serialize import never_return, return_if_not_empty
    from moto.iam.models import IAMBackend, User
    from moto.iam.responses import IamResponse

    _extend_user(User)
    _extend_backend(IAMBackend)
    _extend_responses(IamResponse)
    IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER.update(
        {
            "CreateUserResponse.User.PermissionsBoundary": return_if_not_empty,
            "GetUserResponse.User.PermissionsBoundary": return_if_not_empty,
            "ListUsersResponse.Users.User.PermissionsBoundary": never_return,
        }
    )
    _INSTALLED = True


def _boundary(self: Any) -> dict[str, str] | None:
    arn = getattr(self, "permissions_boundary_arn", None)
    if not arn:
        return None
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}


def _extend_user(user_cls: Any) -> None:
    user_cls.permissions_boundary_arn = None
    user_cls.permissions_boundary = property(_boundary)


def _check_boundary(backend: Any, arn: str) -> None:
    from moto.iam.exceptions import InvalidInput, NoSuchEntity

    if not _POLICY_ARN.match(arn):
        raise InvalidInput(f"ARN {arn} is not valid.")
    # AWS managed policies are only known to moto when it loads them (a moto setting)
    unknowable = arn.split(":")[4] == "aws" and not backend.aws_managed_policies
    if arn not in backend.managed_policies and not unknowable:
        raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")


def _extend_backend(backend_cls: Any) -> None:
    original_create = backend_cls.create_user

    def create_user(
        self: Any,
        region_name: str,
        user_name: str,
        path: str = "/",
        tags: list[dict[str, str]] | None = None,
        permissions_boundary: str | None = None,
    ) -> Any:
        if permissions_boundary:
            _check_boundary(self, permissions_boundary)
        user = original_create(self, region_name, user_name, path, tags)
        user.permissions_boundary_arn = permissions_boundary or None
        return user

    def put_user_permissions_boundary(self: Any, user_name: str, arn: str) -> None:
        user = self.get_user(user_name)
        _check_boundary(self, arn)
        user.permissions_boundary_arn = arn

    def delete_user_permissions_boundary(self: Any, user_name: str) -> None:
        self.get_user(user_name).permissions_boundary_arn = None

    backend_cls.create_user = create_user
    backend_cls.put_user_permissions_boundary = put_user_permissions_boundary
    backend_cls.delete_user_permissions_boundary = delete_user_permissions_boundary


def _extend_responses(responses_cls: Any) -> None:
    from moto.core.responses import ActionResult, EmptyResult

    def create_user(self: Any) -> Any:
        user = self.backend.create_user(
            self.region,
            user_name=self._get_param("UserName"),
            path=self._get_param("Path"),
            tags=self._get_param("Tags", []),
            permissions_boundary=self._get_param("PermissionsBoundary"),
        )
        return ActionResult({"User": user})

    def put_user_permissions_boundary(self: Any) -> Any:
        self.backend.put_user_permissions_boundary(
            self._get_param("UserName"), self._get_param("PermissionsBoundary")
        )
        return EmptyResult()

    def delete_user_permissions_boundary(self: Any) -> Any:
        self.backend.delete_user_permissions_boundary(self._get_param("UserName"))
        return EmptyResult()

    responses_cls.create_user = create_user
    responses_cls.put_user_permissions_boundary = put_user_permissions_boundary
    responses_cls.delete_user_permissions_boundary = delete_user_permissions_boundary


def create_policies(iam: Any, policies: Mapping[str, Mapping[str, Any]]) -> None:
    """Create customer managed policies at the given ARNs (ARN -> document), as an account's
    administrators would have; AWS managed ones (account "aws") exist already."""
    for arn, document in policies.items():
        if arn.split(":")[4] == "aws":
            continue
        path, _, name = arn.split(":policy", 1)[1].rpartition("/")
        try:
            iam.create_policy(PolicyName=name, Path=f"{path}/", PolicyDocument=json.dumps(document))
        except iam.exceptions.EntityAlreadyExistsException:
            continue  # the sandbox remembers: created by an earlier command
