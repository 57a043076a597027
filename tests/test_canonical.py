from reconciler.model import canonical_policy


def test_one_item_lists_and_strings_compare_equal() -> None:
    a = {
        "Version": "2012-10-17",
        "Statement": {
            "Sid": "X",
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::1:user/a"]},
            "Action": ["s3:GetObject"],
            "Resource": "arn:r",
            "Condition": {"StringLike": {"s3:prefix": ["a/*"]}},
        },
    }
    b = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Resource": ["arn:r"],
                "Action": "s3:GetObject",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::1:user/a"},
                "Sid": "X",
                "Condition": {"StringLike": {"s3:prefix": "a/*"}},
            }
        ],
    }
    assert canonical_policy(a) == canonical_policy(b)


def test_reordered_statements_and_actions_compare_equal() -> None:
    s1 = {
        "Sid": "A",
        "Effect": "Allow",
        "Action": ["s3:PutObject", "s3:GetObject"],
        "Resource": "*",
    }
    s2 = {"Sid": "B", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}
    swapped = dict(s1, Action=["s3:GetObject", "s3:PutObject"])
    assert canonical_policy({"Statement": [s1, s2]}) == canonical_policy(
        {"Statement": [s2, swapped]}
    )


def test_json_text_is_accepted() -> None:
    text = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}'
    assert canonical_policy(text) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*"}],
    }


def test_different_resources_differ() -> None:
    base = {"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject"}
    narrow = canonical_policy({"Statement": [dict(base, Resource="ap/object/Alice/*")]})
    broad = canonical_policy({"Statement": [dict(base, Resource="ap/object/*")]})
    assert narrow != broad
