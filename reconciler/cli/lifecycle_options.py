"""Options shared by plan and apply for the collaborator lifecycle: --adopt and the injected
date (--today / RECONCILE_TODAY) that decides which collaborators have expired."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from typing import Any

import click

TODAY_ENV = "RECONCILE_TODAY"


def today_utc(value: str | None = None) -> date:
    """The date expiry is judged by: --today / RECONCILE_TODAY when given (tests, dry runs of a
    future date), else today's date in UTC."""
    text = value or os.environ.get(TODAY_ENV)
    if not text:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date: use YYYY-MM-DD", param_hint="--today / RECONCILE_TODAY"
        ) from None


def lifecycle_options(func: Any) -> Any:
    options = [
        click.option(
            "--adopt",
            is_flag=True,
            help="Tag untagged IAM users and access points that collaborators.yaml names as "
            "managed (e.g. a setup built by hand, imported with `reconcile import`) instead of "
            "refusing them.",
        ),
        click.option(
            "--today",
            envvar=TODAY_ENV,
            hidden=True,
            help="Judge expiry as of this date (YYYY-MM-DD, UTC) instead of today.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func
