from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.aws.emulator import access_point_arns, cloudtrail_selectors, iam_boundaries
from reconciler.config.loader import load_config_text
from reconciler.model import Config

ROOT = Path(__file__).resolve().parents[1]
# moto drops IAM users' permissions boundaries: every in-process moto and moto server in the
# tests gets the project's faithful extension (as the sandbox does); so does moto's access point
# ARNs, which name us-east-1 whatever the access point's Region
iam_boundaries.install()
access_point_arns.install()
# moto's CloudTrail keeps no default event selector and mixes basic and advanced ones
cloudtrail_selectors.install()

BASE_YAML = """\
version: 1
account_id: "123456789012"
region: us-east-1
bucket:
  name: clinical-share-123456789012
iam_path: /collaborators/
collaborators:
  - id: alice
    iam_user: Alice
    prefix: Alice/
    access: [write]
  - id: bob
    iam_user: Bob
    prefix: Bob/
    access: [write, read, list]
  - id: partner-site
    principal: arn:aws:iam::111122223333:role/Uploader
    access: [write]
    access_point: partner-site-ap
"""


def config_from(text: str, name: str = "collaborators.yaml") -> Config:
    return load_config_text(textwrap.dedent(text).encode(), name)


@pytest.fixture
def config() -> Config:
    return config_from(BASE_YAML)


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never touch real AWS: fake credentials and no profile for anything in-process."""
    use_fake_aws_env(monkeypatch)


def use_fake_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Also for module-scoped fixtures, which run before the autouse fixture above."""
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")


@pytest.fixture(autouse=True)
def _own_sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test's `--sandbox` commands share one state of their own, which starts empty (the
    sandbox keeps its state between commands; see reconciler/aws/sandbox.py)."""
    monkeypatch.setenv("RECONCILE_SANDBOX_DIR", str(tmp_path / "sandbox-state"))
