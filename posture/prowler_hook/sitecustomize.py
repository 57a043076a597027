"""Loaded by Prowler's Python (this folder is put on its PYTHONPATH by posture/scan.py) when it
is pointed at a local moto server: every botocore session gets a before-sign hook on S3 Control
that sends the request to the configured host.

botocore's endpoint rules put "<AccountId>." in front of S3 Control hosts
(123456789012.127.0.0.1:PORT), which does not resolve; Prowler logs the failure of
ListAccessPoints and its access point checks then find nothing, silently. The project's own
clients do the same (reconciler/aws/session.py, strip_account_host_prefix); this file cannot
import it, because Prowler runs in a virtual environment of its own.

Only active when POSTURE_STRIP_S3CONTROL_ACCOUNT=1, which posture/scan.py sets.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_ACCOUNT_PREFIX = re.compile(r"^[0-9]{12}\.")


def strip_account_host_prefix(request: Any, **_: Any) -> None:
    parts = urlsplit(request.url)
    netloc = _ACCOUNT_PREFIX.sub("", parts.netloc)
    if netloc != parts.netloc:
        request.url = urlunsplit(parts._replace(netloc=netloc))


def _install() -> None:
    import botocore.session

    original = botocore.session.Session.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.register("before-sign.s3-control.*", strip_account_host_prefix)

    botocore.session.Session.__init__ = init  # type: ignore[method-assign]


if os.environ.get("POSTURE_STRIP_S3CONTROL_ACCOUNT") == "1":
    _install()
