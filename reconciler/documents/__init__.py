"""The documents the tool writes, built from the model: collaborators' identity, access point
and bucket policies (policies), the tool's own roles (iam_policy), the permissions boundary
(boundary) and the KMS key policy (key_policy). Pure. May import reconciler.model and
reconciler.errors only."""
