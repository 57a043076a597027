"""The apply lock as the CLI uses it: options, taking it around apply, `reconcile unlock`."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from reconciler.apply.lock import Holding, held, new_lock_info, unlock, utc_now
from reconciler.cli.app import cli
from reconciler.cli.common import Options, aws_options, aws_session, check_account
from reconciler.cli.output import output_options, terminal_from
from reconciler.config import load_config
from reconciler.errors import ReconcilerError
from reconciler.model import Config


def lock_options(func: Any) -> Any:
    options = [
        click.option(
            "--lock-bucket",
            envvar="RECONCILE_LOCK_BUCKET",
            help="Bucket holding the apply lock (default: lock.bucket, else the shared bucket).",
        ),
        click.option(
            "--lock-key",
            envvar="RECONCILE_LOCK_KEY",
            help="Key of the apply lock object (default: lock.key).",
        ),
        click.option(
            "--lock-timeout",
            type=click.FloatRange(min=0),
            default=0,
            show_default=True,
            help="Seconds to wait for another apply to release the lock.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _store(clients: Any, config: Config, bucket: str | None, key: str | None) -> Any:
    from reconciler.aws.lock_store import S3LockStore

    return S3LockStore(clients, bucket or config.lock_bucket, key or config.lock.key)


@contextmanager
def apply_lock(
    clients: Any, config: Config, bucket: str | None, key: str | None, timeout: float
) -> Iterator[Holding | None]:
    """The apply lock for the block (None on a first apply, before the bucket exists)."""
    store = _store(clients, config, bucket, key)
    if not store.bucket_exists():
        if store.bucket != config.bucket.name:
            raise ReconcilerError(
                f"the lock bucket {store.bucket} does not exist: create it, or remove "
                f"lock.bucket / --lock-bucket to keep the lock in the shared bucket"
            )
        click.echo(
            f"note: no apply lock taken: bucket {store.bucket} does not exist yet (first apply)",
            err=True,
        )
        yield None
        return
    from reconciler.aws.reader import AwsReader

    holder = AwsReader(clients).caller_arn()
    info = new_lock_info(holder, config.lock.ttl_seconds, utc_now())
    with held(
        store, info, timeout=timeout, warn=lambda m: click.echo(f"warning: {m}", err=True)
    ) as holding:
        yield holding


@cli.command("unlock")
@functools.partial(aws_options, formats=(), reads_state=False)
@output_options
@click.option("--lock-bucket", envvar="RECONCILE_LOCK_BUCKET", help="Bucket holding the lock.")
@click.option("--lock-key", envvar="RECONCILE_LOCK_KEY", help="Key of the lock object.")
@click.option("--force", is_flag=True, help="Remove the lock even if it has not expired.")
def unlock_command(
    lock_bucket: str | None, lock_key: str | None, force: bool, **kwargs: Any
) -> None:
    """Break a stale apply lock (one past its expiry, left by a killed apply).

    An apply takes over an expired lock by itself (with a warning naming the old holder): this
    is for breaking one sooner (--force), or one that is unreadable.

    \b
    Examples:
      reconcile unlock
      reconcile unlock --force    # only if you are sure no apply is running
    """
    terminal_from(kwargs)
    opts = Options(**kwargs)
    config = load_config(opts.config)
    with aws_session(opts, config) as clients:
        check_account(clients, config)
        click.echo(unlock(_store(clients, config, lock_bucket, lock_key), force=force))
