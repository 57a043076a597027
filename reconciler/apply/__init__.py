"""Applying a Plan: the executor (through the Writer interface), the apply lock and the audit
trail. No SDK: the AWS side is injected. May import reconciler.model, errors, interfaces, workers
and reconciler.plan."""
