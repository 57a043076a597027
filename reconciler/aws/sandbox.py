"""The embedded sandbox: an in-process AWS emulator (moto), so anyone can try the tool with no
AWS account and no server. Nothing leaves the process.

State lasts between commands: after each command the emulator's backends are pickled into
`.reconcile-sandbox/state.pickle` beside collaborators.yaml (RECONCILE_SANDBOX_DIR elsewhere),
and loaded again by the next one. The folder holds its own `.gitignore`, so the state is never
committed, and a file lock lets only one sandbox command use it at a time. moto is an optional
dependency (the `sandbox` extra)."""

from __future__ import annotations

import fcntl
import io
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from reconciler.aws.emulator.request_context import tls_aware_bucket_policies
from reconciler.errors import ReconcilerError

DIR_NAME = ".reconcile-sandbox"
DIR_ENV = "RECONCILE_SANDBOX_DIR"
STATE_FILE = "state.pickle"
# The sandbox extra is moto (pyproject.toml); installing it into the running environment is
# what the extra would have done, and works however the tool was installed (the project is on
# no package index until its first publication).
SANDBOX_REQUIREMENT = "moto>=5.2.5,<5.3"


def install_hint() -> str:
    return (
        "--sandbox needs the sandbox extra (moto, an AWS emulator), which this installation "
        f"lacks: {sys.executable} -m pip install '{SANDBOX_REQUIREMENT}'"
    )


_FORMAT = 1

# Placeholder values that moto accepts; they are not credentials for any real account.
_SANDBOX_ENV = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
    "AWS_SESSION_TOKEN": "sandbox",
}
_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL")


def state_dir(config_path: str) -> Path:
    """Where the sandbox of this config keeps its state: RECONCILE_SANDBOX_DIR, else
    `.reconcile-sandbox/` in the config's folder."""
    override = os.environ.get(DIR_ENV)
    return Path(override) if override else Path(config_path).resolve().parent / DIR_NAME


def reset(folder: Path, *, on_wait: Callable[[], None] | None = None) -> bool:
    """Forget everything the sandbox holds; True if there was something to forget."""
    with _locked(folder, on_wait):
        state = folder / STATE_FILE
        if not state.exists():
            return False
        state.unlink()
        return True


@contextmanager
def sandbox(
    account_id: str,
    region: str,
    buckets: tuple[str, ...] = (),
    policies: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    folder: Path | None = None,
    on_wait: Callable[[], None] | None = None,
    trails: tuple[str, ...] = (),
) -> Iterator[None]:
    """`buckets` are created up front if missing: those the config expects to exist already
    (the lock's); so are the managed `policies` (ARN -> document) it expects, e.g. the users'
    permissions boundary that administrators create once. With `folder`, the state is loaded
    from it and saved back on the way out, whatever the command's outcome (AWS keeps what a
    failed apply did, too). Another command holding the folder's sandbox is waited for; `on_wait`
    is called first, so the caller can say that it waits."""
    import boto3

    mock_aws = _mock_aws()
    from reconciler.aws.emulator import access_point_arns, cloudtrail_selectors, iam_boundaries

    iam_boundaries.install()  # moto drops IAM users' permissions boundaries
    access_point_arns.install()  # moto names every access point's Region us-east-1
    cloudtrail_selectors.install()  # moto's trails start without their default selector
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env.update(_SANDBOX_ENV)
    env["MOTO_ACCOUNT_ID"] = account_id
    env["AWS_DEFAULT_REGION"] = region
    with (
        _locked(folder, on_wait),
        mock.patch.dict(os.environ, env, clear=True),
        mock_aws(),
        tls_aware_bucket_policies(),
    ):
        if folder is not None:
            _load(folder / STATE_FILE)
        try:
            s3: Any = boto3.client("s3", region_name=region)
            existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
            for name in buckets:
                if name not in existing:
                    _create_bucket(s3, name, region)
            iam_boundaries.create_policies(boto3.client("iam"), policies or {})
            _create_trails(s3, boto3.client("cloudtrail", region_name=region), account_id, trails)
            yield
        finally:
            if folder is not None:
                _save(folder / STATE_FILE)


def _create_trails(s3: Any, cloudtrail: Any, account_id: str, trails: tuple[str, ...]) -> None:
    """The CloudTrail trails the config expects (bucket.data_events_trail), as an account's
    administrators would have made them: new trails, logging management events, delivering
    into a bucket of their own."""
    existing = {t["Name"] for t in cloudtrail.list_trails().get("Trails", [])}
    missing = [name for name in trails if name not in existing]
    if not missing:
        return
    log_bucket = f"sandbox-cloudtrail-logs-{account_id}"
    if log_bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        _create_bucket(s3, log_bucket, cloudtrail.meta.region_name)
    for name in missing:
        cloudtrail.create_trail(Name=name, S3BucketName=log_bucket)


def _mock_aws() -> Any:
    try:
        from moto import mock_aws
    except ImportError:
        raise ReconcilerError(install_hint()) from None
    return mock_aws


def _create_bucket(s3: Any, name: str, region: str) -> None:
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)


@contextmanager
def _locked(folder: Path | None, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """One sandbox command at a time per state folder (a second one waits, after `on_wait`)."""
    if folder is None:
        yield
        return
    _prepare(folder)
    with open(folder / "lock", "w", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _prepare(folder: Path) -> None:
    """The folder, with a .gitignore that keeps it out of the config repository."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text(
                "# state of `reconcile --sandbox`: never commit it\n*\n", encoding="utf-8"
            )
    except OSError as err:
        raise ReconcilerError(
            f"cannot keep the sandbox state in {folder}: {err.strerror} "
            f"(set {DIR_ENV} to a writable folder)"
        ) from None


# --- the emulator's state ---------------------------------------------------------------------


def _backends() -> Any:
    from moto.core import base_backend

    return getattr(base_backend.BackendDict, "_instances")  # noqa: B009  (moto's registry)


def _save(path: Path) -> None:
    state = {
        bd.service_name: {acct: dict(regions) for acct, regions in bd.items()} for bd in _backends()
    }
    document = {"format": _FORMAT, "moto": _moto_version(), "backends": state}
    data = pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)  # atomic: a killed command never leaves half a state


def _load(path: Path) -> None:
    if not path.exists():
        return
    try:
        document = _SandboxUnpickler(io.BytesIO(path.read_bytes())).load()
        if document.get("format") != _FORMAT:
            raise ValueError(f"format {document.get('format')!r}")
        if document.get("moto") != _moto_version():  # its classes may have changed shape
            raise ValueError(f"written with moto {document.get('moto')}, not {_moto_version()}")
        _restore(document["backends"])
    except Exception as err:
        raise ReconcilerError(
            f"{path}: the sandbox state cannot be read ({type(err).__name__}: {err}); "
            "empty it with `reconcile sandbox reset`"
        ) from None


def _moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


def _restore(state: dict[str, dict[str, dict[str, Any]]]) -> None:
    from moto.backends import get_backend

    for service, accounts in state.items():
        backend_dict: Any = get_backend(service)  # type: ignore[call-overload]
        for account, regions in accounts.items():
            for region, backend in regions.items():
                backend_dict[account][region] = backend


# Only the emulator's own classes and plain values may come out of the state file: a file that
# names anything else (e.g. os.system) was not written by this tool and is refused.
_SAFE_MODULES = ("moto.", "reconciler.")
_SAFE_GLOBALS = {
    ("builtins", name)
    for name in ("dict", "list", "set", "frozenset", "tuple", "bytearray", "bytes", "object")
} | {
    ("datetime", "datetime"),
    ("datetime", "date"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("collections", "defaultdict"),
    ("collections", "OrderedDict"),
    ("copyreg", "_reconstructor"),
    ("re", "_compile"),
    ("uuid", "UUID"),
    ("decimal", "Decimal"),
}


class _SandboxUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module.startswith(_SAFE_MODULES) or (module, name) in _SAFE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing {module}.{name}")
