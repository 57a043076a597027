"""The size of the tool's own role policies as the share grows; prints a Markdown table.

    python benchmarks/role_policy_sizes.py [--counts 10,100,1000,10000]

For each number of collaborators, with and without access_point_prefix, for a share with SSE-KMS
(a key policy the tool manages), a permissions boundary and an audit bucket: the apply and
read-only policies' characters without whitespace (as IAM counts them) and the number of
customer managed policies (6,144 characters each, at most 10 per role by default) that
`reconcile iam-policy` prints. Collaborators are half IAM users, half partner principals (IAM
allows 5,000 users per account). Offline and fast: no AWS, no process per figure.
"""

from __future__ import annotations

import argparse

from reconciler.config.loader import load_config_text
from reconciler.documents.iam_policy import policy_size, tool_policy
from reconciler.documents.policy_set import MANAGED_POLICIES_PER_ROLE, policy_set
from reconciler.errors import ConfigError
from reconciler.model import Config

ACCOUNT = "111122223333"


def share(collaborators: int, *, prefix: bool, key_policy: bool = True) -> str:
    lines = [
        "version: 1",
        f'account_id: "{ACCOUNT}"',
        "region: eu-west-2",
        "bucket:",
        f"  name: trial-share-{ACCOUNT}",
        "  encryption: aws:kms",
        f"  kms_key_id: arn:aws:kms:eu-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        f"  manage_key_policy: {'true' if key_policy else 'false'}",
        "iam_path: /collaborators/",
        f"iam_permissions_boundary: arn:aws:iam::{ACCOUNT}:policy/reconciler-collaborator-boundary",
        "audit:",
        f"  bucket: trial-audit-{ACCOUNT}",
    ]
    if prefix:
        lines.append("access_point_prefix: trial-")
    lines.append("collaborators:")
    for i in range(collaborators):
        lines.append(f"  - id: site-{i:05d}")
        if i % 2:
            lines.append(f"    principal: arn:aws:iam::444455556666:role/Uploader{i}")
        else:
            lines.append(f"    iam_user: Site{i:05d}")
        lines.append("    access: [read, write, list]")
    return "\n".join(lines) + "\n"


def load(collaborators: int, *, prefix: bool) -> tuple[Config, str]:
    """The share, or when its partners no longer fit in one KMS key policy (32 KB: about 555
    partners), the same share whose key policy the tool does not manage."""
    try:
        return load_config_text(share(collaborators, prefix=prefix).encode(), "share.yaml"), ""
    except ConfigError as err:
        if not any("KMS key policy" in p.message for p in err.problems):
            raise
    text = share(collaborators, prefix=prefix, key_policy=False)
    return load_config_text(text.encode(), "share.yaml"), " (key policy not managed)"


def row(collaborators: int, *, prefix: bool) -> str:
    name = "yes" if prefix else "no"
    try:
        config, note = load(collaborators, prefix=prefix)
    except ConfigError as err:  # such a share cannot exist: say why instead of a size
        reason = err.problems[0].message.split(";")[0]
        return f"| {collaborators:,} | {name} | refused by validate: {reason} | | | |"
    cells = []
    for read_only in (False, True):
        policy = tool_policy(config, read_only=read_only)
        parts = policy_set([policy]).documents
        over = " (over 10)" if len(parts) > MANAGED_POLICIES_PER_ROLE else ""
        cells.append(f"{policy_size(policy.document):,} | {len(parts)}{over}")
    return f"| {collaborators:,} | {name}{note} | {cells[0]} | {cells[1]} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="10,100,1000,10000")
    args = parser.parse_args()
    print(
        "| collaborators | access_point_prefix | apply: characters | apply: managed policies "
        "| read-only: characters | read-only: managed policies |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for count in (int(c) for c in args.counts.split(",")):
        for prefix in (False, True):
            print(row(count, prefix=prefix))


if __name__ == "__main__":
    main()
