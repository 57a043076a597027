"""GitOps reconciler for sharing one S3 bucket with research collaborators through access points."""

__version__ = "0.1.0"
