"""Every file in tests/invalid/ holds one mistake (a few hold several) and its .expected file the
exact output it must produce: each problem as FILE:LINE:COLUMN: FIELD: MESSAGE, sorted by line,
then "N errors in FILE". Regenerate with REGEN_GOLDEN=1 and review the diff.

No AWS call may happen for any of them: `plan`, `apply` and `validate` are run in a separate
interpreter where importing boto3, botocore or moto fails and every socket connect raises, with
no credentials and an unreachable endpoint. The output must still be exactly the expected
validation error; any attempt to reach AWS would surface as a traceback instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.config import yaml_source
from reconciler.config.loader import load_config
from reconciler.errors import ConfigError
from tests.no_aws import run_without_aws

ROOT = Path(__file__).resolve().parents[1]
INVALID = ROOT / "tests" / "invalid"
CASES = sorted(p.stem for p in INVALID.glob("*.yaml"))
REGEN = os.environ.get("REGEN_GOLDEN") == "1"


def expected(name: str) -> str:
    return (INVALID / f"{name}.expected").read_text()


def test_corpus_has_forty_files_each_with_its_expected_output() -> None:
    assert len(CASES) >= 40
    expectations = sorted(p.stem for p in INVALID.glob("*.expected"))
    assert expectations == CASES
    several = [n for n in CASES if expected(n).splitlines()[-1].split()[0] not in {"1", "2"}]
    assert len(several) >= 3


@pytest.mark.parametrize("name", CASES)
def test_invalid_file_reports_exact_messages(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID)
    with pytest.raises(ConfigError) as info:
        load_config(f"{name}.yaml")
    actual = f"{info.value}\n"
    if REGEN:
        (INVALID / f"{name}.expected").write_text(actual)
    assert actual == expected(name)
    for problem in info.value.problems:
        assert problem.file == f"{name}.yaml"
        assert problem.line is not None and problem.line >= 1
        assert problem.column is not None and problem.column >= 1


def test_no_aws_call_is_made_for_any_invalid_file() -> None:
    commands = [
        args
        for name in CASES
        for args in (
            ["plan", "-c", f"{name}.yaml"],
            ["apply", "-c", f"{name}.yaml", "--auto-approve"],
            ["plan", "-c", f"{name}.yaml", "--sandbox"],
            ["validate", f"{name}.yaml"],
        )
    ]
    results = run_without_aws(commands, INVALID)
    assert len(results) == len(commands)
    for result in results:
        args = result["args"]
        assert isinstance(args, list)
        name = Path(next(a for a in args if a.endswith(".yaml"))).stem
        assert (result["code"], result["stdout"], result["stderr"]) == (1, "", expected(name)), args


def test_the_no_aws_harness_does_catch_aws_use() -> None:
    """Control: a valid file makes `plan` reach for the SDK, which the harness turns into a
    failure. Without this the test above could pass because nothing was being checked."""
    (valid,) = run_without_aws([["plan", "-c", "collaborators.yaml"]], ROOT)
    assert valid["code"] is None
    assert "UNCAUGHT" in str(valid["stderr"])
    assert "import of boto3 halted" in str(valid["stderr"])


@pytest.mark.parametrize("name", CASES)
def test_same_messages_without_libyaml(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """libyaml only speeds reading up: the pure-Python parser gives the same report."""
    monkeypatch.setattr(yaml_source, "_FAST_LOADER", None)
    monkeypatch.chdir(INVALID)
    with pytest.raises(ConfigError) as info:
        load_config(f"{name}.yaml")
    assert f"{info.value}\n" == expected(name)


def test_libyaml_and_pure_python_record_the_same_positions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = (ROOT / "collaborators.yaml").read_text()
    fast = yaml_source.parse(text, "c.yaml")
    monkeypatch.setattr(yaml_source, "_FAST_LOADER", None)
    slow = yaml_source.parse(text, "c.yaml")
    assert fast == slow
    assert len(fast.key_positions) == 24  # with iam_permissions_boundary and the bucket baseline
