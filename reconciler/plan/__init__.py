"""Planning: desired and live state -> a typed Plan (changes), with the planner, the collaborators'
lifecycle, the KMS key resolution, targeting (--only), the origin of each change (edit or drift)
and the safety guards. Pure. May import reconciler.model, reconciler.errors and
reconciler.documents."""
