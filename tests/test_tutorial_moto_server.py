"""The tutorial's moto-server recipe (docs/tutorial.md, "Against a moto server instead of the
sandbox") runs as written against a real moto server: two applies in a row, the second taking
the lock in the bucket of its own. The block is read from the page, so they cannot drift apart.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BASE_YAML
from tests.e2e_support import MotoServer, moto_server_session, reconcile_env

pytestmark = pytest.mark.e2e
__all__ = ["moto_server_session"]  # the fixture
TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"


def recipe() -> str:
    section = TUTORIAL.read_text().split("## Against a moto server instead of the sandbox")[1]
    (block,) = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)[:1]
    return block


@pytest.mark.skipif(shutil.which("curl") is None, reason="the recipe uses curl")
def test_the_moto_server_recipe_applies_twice(
    moto_server_session: MotoServer, tmp_path: Path
) -> None:
    lines = recipe().splitlines()
    assert lines[0].startswith("pip install") and lines[1].startswith("moto_server -p 5000")
    server = moto_server_session
    server.reset()
    port = server.url.rsplit(":", 1)[1]
    script = "\n".join(lines[2:]).replace("127.0.0.1:5000", f"127.0.0.1:{port}")
    script = re.sub(r"^reconcile ", f"{sys.executable} -m reconciler ", script, flags=re.M)
    (tmp_path / "collaborators.yaml").write_text(BASE_YAML)
    env = reconcile_env(None)
    env.pop("RECONCILE_LOCK_BUCKET")  # the recipe sets it
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("Converged: a fresh plan finds no changes.") == 1
    assert result.stdout.endswith("No changes. Live state matches collaborators.yaml.\n")
    assert "403" not in result.stderr
