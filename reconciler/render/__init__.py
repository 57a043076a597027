"""Renderers: pure functions of a Plan (or apply result) returning text.

May import reconciler.model, errors, documents, plan, access, reports and apply (its result
types); never the SDK or cli."""
