"""A base file applied to an in-memory cloud, one access point policy broadened by hand (read
added to alice, inside her own folder: drift the security gate does not refuse), and a head file
that adds a collaborator. Shared by the drift-label and targeted-run tests."""

from __future__ import annotations

from reconciler.access.review import reviewed_plan
from reconciler.apply.executor import apply_plan
from reconciler.model import Config
from tests.conftest import BASE_YAML, config_from
from tests.fake import FakeCloud

CAROL = """\
  - id: carol
    iam_user: Carol
    prefix: Carol/
    access: [read, list]
"""
HEAD_YAML = BASE_YAML + CAROL


def broadened_cloud(base: Config) -> FakeCloud:
    """The base file applied, then alice's access point policy broadened by hand."""
    cloud = FakeCloud()
    apply_plan(reviewed_plan(base, cloud.read(base)), cloud)
    statement = cloud.access_points["alice-access-point"]["policy"]["Statement"][0]
    statement["Action"] = [*statement["Action"], "s3:GetObject"]
    return cloud


def head_and_base() -> tuple[Config, Config]:
    return config_from(HEAD_YAML), config_from(BASE_YAML)
