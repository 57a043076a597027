"""Access point ARNs name the access point's Region, as AWS does.

moto (5.2.5, moto/s3control/models.py `AccessPoint`) writes `arn:aws:s3:us-east-1:...` for
every access point, whatever its Region, so an access card of an eu-west-2 share ended with a
note that AWS names the access point in us-east-1. In AWS, "access point ARNs ... encode the
access point's Region and the AWS account ID of the access point's owner"
(`arn:aws:s3:region:account-id:accesspoint/resource`; S3 User Guide, "Referencing access points
with ARNs, access point aliases, or virtual-hosted-style URIs",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-alias.html), and an access
point is created in its bucket's Region. `install()` makes moto's CreateAccessPoint name the
bucket's Region (tags are attached under that ARN, as ListTagsForResource then expects).
"""

from __future__ import annotations

from typing import Any

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.s3control.models import S3ControlBackend

    _extend_backend(S3ControlBackend)
    _INSTALLED = True


def _extend_backend(backend_cls: Any) -> None:
    original = backend_cls.create_access_point

    def create_access_point(
        self: Any, account_id: str, name: str, bucket: str, *args: Any, **kwargs: Any
    ) -> Any:
        tags = kwargs.pop("tags", None)
        point = original(self, account_id, name, bucket, *args, tags=None, **kwargs)
        region = bucket_region(account_id, bucket)
        if region is not None:
            partition = point.arn.split(":")[1]
            point.arn = f"arn:{partition}:s3:{region}:{account_id}:accesspoint/{name}"
        if tags:
            self.tag_resource(point.arn, tags)
        return point

    backend_cls.create_access_point = create_access_point


def bucket_region(account_id: str, bucket: str) -> str | None:
    """The Region of a bucket in moto's S3, or None when moto has no such bucket (AWS would
    refuse the access point; moto creates it, and keeps its own ARN)."""
    from moto.s3.models import s3_backends

    for backend in s3_backends[account_id].values():
        found = backend.buckets.get(bucket)
        if found is not None:
            return str(found.region_name)
    return None
