"""`reconcile show ID` output: a collaborator's access card as text, JSON or Markdown (for an
e-mail or a ticket). Pure functions of an AccessCard."""

from __future__ import annotations

import json

from reconciler.reports.card import AccessCard, must_not

FORMAT_VERSION = 1


def _facts(card: AccessCard) -> list[tuple[str, str]]:
    status = card.status + (f" ({card.suspended_because})" if card.suspended_because else "")
    facts = [
        ("Access point ARN", card.access_point_arn),
        ("Access point alias", card.access_point_alias or "(known once created; see notes)"),
        ("Region", card.region),
        ("Folder", card.prefix),
        ("Levels", ", ".join(card.levels) or "none"),
        ("Status", status),
        ("Expires", card.expires.isoformat() if card.expires else "never"),
        ("Principal", card.principal),
        ("S3 console", "yes (console: true)" if card.console else "no: use the AWS CLI"),
        ("Presigned links", f"at most {card.presigned_url_max_age_seconds} seconds"),
        ("Encryption", _encryption(card)),
    ]
    return facts


def _encryption(card: AccessCard) -> str:
    if card.kms is None:
        return f"{card.encryption} (automatic; pass no encryption option)"
    return f"SSE-KMS with key {card.kms.get('key')} (automatic; pass no --sse)"


def _partner_intro(card: AccessCard) -> str:
    account = card.principal.split(":")[4]
    return (
        f"Partner account {account}: its administrator attaches this identity policy to "
        f"{card.principal} (across accounts, both its own policy and the access point policy "
        "must allow each request):"
    )


def _no_commands(card: AccessCard) -> str:
    if card.status != "active":
        return "Nothing works while the collaborator is suspended."
    return "No access level is granted."


def render_card_text(card: AccessCard) -> str:
    lines = [f"Access card: {card.collaborator} ({_describe_kind(card)}), bucket {card.bucket}"]
    width = max(len(k) for k, _ in _facts(card))
    lines += [f"  {k + ':':<{width + 1}} {v}" for k, v in _facts(card)]
    lines += ["", "AWS CLI commands:"]
    if card.commands:
        for command in card.commands:
            lines += [f"  # {command.level}: {command.what}", f"  {command.command}"]
    else:
        lines.append(f"  {_no_commands(card)}")
    if card.partner_policy is not None:
        lines += ["", _partner_intro(card), json.dumps(card.partner_policy, indent=2)]
    if _key_statement(card) is not None:
        lines += ["", _key_intro(card), json.dumps(_key_statement(card), indent=2)]
    lines += ["", "Do not:"] + [f"  - {item}" for item in must_not(card)]
    if card.notes:
        lines += ["", "Notes:"] + [f"  - {note}" for note in card.notes]
    return "\n".join(lines) + "\n"


def render_card_json(card: AccessCard) -> str:
    document = {"format_version": FORMAT_VERSION, **card.to_json()}
    document["must_not"] = list(must_not(card))
    return json.dumps(document, indent=2) + "\n"


def render_card_markdown(card: AccessCard) -> str:
    lines = [
        f"### Your access: `{card.collaborator}`",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {k} | `{v}` |" for k, v in _facts(card)),
        "",
        "#### Commands (AWS CLI)",
        "",
    ]
    if card.commands:
        for command in card.commands:
            lines += [f"{command.what} (`{command.level}`):", "", "```sh", command.command, "```"]
            lines.append("")
    else:
        lines += [_no_commands(card), ""]
    if card.partner_policy is not None:
        lines += [
            "#### Identity policy for your account's administrator",
            "",
            _partner_intro(card),
            "",
            "```json",
            json.dumps(card.partner_policy, indent=2),
            "```",
            "",
        ]
    if _key_statement(card) is not None:
        lines += [
            "#### Key policy statement",
            "",
            _key_intro(card),
            "",
            "```json",
            json.dumps(_key_statement(card), indent=2),
            "```",
            "",
        ]
    lines += ["#### Please do not", "", *(f"- {item}" for item in must_not(card)), ""]
    if card.notes:
        lines += ["#### Notes", "", *(f"- {note}" for note in card.notes), ""]
    return "\n".join(lines)


def _key_statement(card: AccessCard) -> object:
    return None if card.kms is None else card.kms.get("key_policy_statement")


def _key_intro(card: AccessCard) -> str:
    assert card.kms is not None
    if card.kms.get("key_policy_managed"):
        return "The key policy names this principal (the tool maintains it) with:"
    if card.kind == "principal":
        return (
            f"In this account, either the key policy of {card.kms.get('key')} names this "
            "principal, or its identity policy allows the same and the key policy delegates to "
            "IAM. The key-policy statement:"
        )
    return (
        f"The key policy of {card.kms.get('key')} must name this principal; its administrators "
        "add (the tool does not edit the key policy without bucket.manage_key_policy):"
    )


def _describe_kind(card: AccessCard) -> str:
    return {
        "iam_user": "IAM user created by this tool",
        "principal": "existing principal in this account",
        "partner": "principal in a partner account",
    }[card.kind]
