"""Translating botocore exceptions into the core's exception family."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from reconciler.errors import AwsError, WriteError

F = TypeVar("F", bound=Callable[..., Any])


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", "Unknown"))


def error_message(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Message", "")) or str(err)


def request_id(err: ClientError) -> str | None:
    meta = err.response.get("ResponseMetadata", {})
    rid = meta.get("RequestId") or meta.get("HTTPHeaders", {}).get("x-amz-request-id")
    return str(rid) if rid else None


def describe_setup_error(err: Exception) -> str | None:
    """A clear sentence for errors that mean 'AWS is not set up', or None."""
    if isinstance(err, NoCredentialsError | PartialCredentialsError):
        return (
            "no AWS credentials found: set AWS_PROFILE (or pass --profile), or run with "
            "--sandbox to try the tool without an AWS account"
        )
    if isinstance(err, ProfileNotFound):
        return f"{err}: check --profile / AWS_PROFILE against ~/.aws/config"
    if isinstance(err, NoRegionError):
        return "no AWS region: set region in collaborators.yaml or pass --region"
    if isinstance(err, EndpointConnectionError):
        return f"cannot reach AWS: {err}. Check --endpoint-url / AWS_ENDPOINT_URL and network"
    return None


def reading(what: str, verb: str = "reading") -> Callable[[F], F]:
    """Decorator for calls outside a plan's changes (reads, the lock): failures become
    AwsError naming what was being done, with the AWS error code and request id."""

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except ClientError as err:
                rid = request_id(err)
                suffix = f" (request id {rid})" if rid else ""
                raise AwsError(
                    f"{verb} {what} failed: {error_code(err)}: {error_message(err)}{suffix}"
                ) from err
            except BotoCoreError as err:
                raise AwsError(describe_setup_error(err) or f"{verb} {what} failed: {err}") from err

        return cast(F, inner)

    return wrap


def writing(func: F) -> F:
    """Decorator for writer methods: failures become WriteError (code, message, request id)."""

    @functools.wraps(func)
    def inner(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ClientError as err:
            raise WriteError(error_code(err), error_message(err), request_id(err)) from err
        except (NoCredentialsError, PartialCredentialsError, ProfileNotFound) as err:
            raise AwsError(describe_setup_error(err) or str(err)) from err
        except BotoCoreError as err:
            raise WriteError(type(err).__name__, str(err)) from err

    return cast(F, inner)
