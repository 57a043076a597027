"""The documents the tool writes, built from the model: collaborators' identity, access point
and bucket policies (policies), the tool's own roles (iam_policy), the permissions boundary
(boundary), the KMS key policy (key_policy), and which CloudTrail event selectors record the
bucket's data events (data_events). Pure. May import reconciler.model and
reconciler.errors only."""
