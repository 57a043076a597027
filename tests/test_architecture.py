"""The SDK stays at the edge: boto3/botocore/moto only under reconciler/aws/."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "reconciler"
SDK = {"boto3", "botocore", "moto"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_sdk_imported_only_in_aws_package() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "aws" not in path.relative_to(PACKAGE).parts and _imports(path) & SDK
    ]
    assert offenders == []


def test_only_cli_prints() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__main__.py" or "cli" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []
