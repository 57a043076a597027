"""Proof by an independent scanner: Prowler against a moto server after `reconcile apply`
(posture/scan.py). Not part of the `reconciler` package and not installed with it."""
