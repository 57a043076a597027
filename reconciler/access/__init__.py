"""Effective access: who can reach which keys of the shared bucket, computed from the policies.

Pure code, no AWS calls. The pipeline: `policy` compiles policy documents, `evaluator` decides one
request (allow / deny / unknown) the way AWS documents it, `state` indexes a LiveState for fast
probing, `checks` builds the `reconcile verify` matrix, `changes` lists per-collaborator access
changes for a plan, `gate` refuses unsafe plans.

May import reconciler.model, errors, documents and plan; never the SDK, apply or cli.
"""
