"""Every option of every command, given a missing or a wrong value: one clear line naming the
option, exit 1, no traceback and never "unexpected". The cases are built from the commands
themselves, so an option added later is swept too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from reconciler.cli import all_commands, cli, main
from reconciler.cli.common import OutputPath
from tests.conftest import BASE_YAML


def _commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def _value_options() -> list[tuple[tuple[str, ...], click.Option]]:
    all_commands()  # every command's module, imported
    return [
        (path, param)
        for path, command in _commands(cli)
        for param in command.params
        if isinstance(param, click.Option)
        and not param.is_flag
        and not param.count
        and not param.hidden
    ]


def _wrong(option: click.Option) -> str | None:
    """A value the option must refuse, or None when any text is acceptable."""
    kind = option.type
    if isinstance(kind, click.Choice):
        return "nope"
    if isinstance(kind, click.types._NumberParamTypeBase):
        return "abc"
    if isinstance(kind, click.Path) and kind.exists:
        return "/nonexistent/file"
    if isinstance(kind, OutputPath):
        return "/nonexistent/folder/out.json"
    return {
        "--endpoint-url": "notaurl",
        "--region": "moon",
        "--profile": "nope",
        "--bucket": "Not_A_Bucket",
    }.get(option.opts[-1])


def _name(option: click.Option) -> str:
    return option.opts[-1]


MISSING = [
    pytest.param(path, option, id=f"{' '.join(path)} {_name(option)}")
    for path, option in _value_options()
]
WRONG = [
    pytest.param(path, option, _wrong(option), id=f"{' '.join(path)} {_name(option)}")
    for path, option in _value_options()
    if _wrong(option) is not None
]


# what a command needs besides the option under test, so only that option can be wrong
REQUIRED = {
    ("import",): [("--bucket", "some-bucket")],
    ("init",): [("--action", "owner/repo@" + "0" * 40)],
    ("show",): [("alice",)],  # the collaborator's id (an argument)
}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A valid collaborators.yaml, so only the option can be wrong."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "collaborators.yaml").write_text(BASE_YAML)
    for key in ("GITHUB_ACTIONS", "RECONCILE_AUDIT_LOG"):
        monkeypatch.delenv(key, raising=False)
    # should a value be wrongly accepted, the command's AWS calls go nowhere (a closed port)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[object, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    return exit_info.value.code, capsys.readouterr().err


def _assert_one_clear_line(code: object, err: str, option: click.Option) -> None:
    assert code == 1, err
    first = err.splitlines()[0]
    assert first.startswith("error: "), err
    assert any(opt in first for opt in option.opts), err
    assert "Traceback" not in err and "unexpected" not in err, err
    rest = err.splitlines()[1:]
    assert all(line.startswith("Try 'reconcile ") for line in rest), err


@pytest.mark.parametrize(("path", "option"), MISSING)
def test_an_option_without_its_value(
    capsys: pytest.CaptureFixture[str], folder: Path, path: tuple[str, ...], option: click.Option
) -> None:
    code, err = _run(capsys, [*path, _name(option)])
    _assert_one_clear_line(code, err, option)


@pytest.mark.parametrize(("path", "option", "value"), WRONG)
def test_an_option_with_a_wrong_value(
    capsys: pytest.CaptureFixture[str],
    folder: Path,
    path: tuple[str, ...],
    option: click.Option,
    value: str,
) -> None:
    needed = [a for a in REQUIRED.get(path, []) if a[0] != _name(option)]
    args = [*path, _name(option), value, *(word for pair in needed for word in pair)]
    code, err = _run(capsys, args)
    _assert_one_clear_line(code, err, option)


ODD = [p for p in WRONG if _name(p.values[1]) != "--profile"]  # "" means: no profile


@pytest.mark.parametrize(("path", "option", "value"), ODD)
def test_an_option_with_an_empty_value(
    capsys: pytest.CaptureFixture[str],
    folder: Path,
    path: tuple[str, ...],
    option: click.Option,
    value: str,
) -> None:
    test_an_option_with_a_wrong_value(capsys, folder, path, option, "")


def test_the_sweep_covers_every_command() -> None:
    swept = {p.values[0] for p in MISSING}
    assert {path for path, _ in _commands(cli)} - swept <= {("validate",), ("sandbox", "reset")}
    assert len(WRONG) > 40
