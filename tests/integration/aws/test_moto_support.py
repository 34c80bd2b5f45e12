"""The lab endpoint itself behaves as the tests assume (enforcement really denies)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.support.moto import AwsLab, IamLab


def test_objects_round_trip(aws: AwsLab) -> None:
    aws.put_object("specs", "a/b.json", b"{}")
    body = aws.client("s3").get_object(Bucket="specs", Key="a/b.json")["Body"].read()
    assert body == b"{}"


def test_enforcement_denies_unknown_keys(iam_lab: IamLab) -> None:
    with pytest.raises(ClientError):
        iam_lab.aws.client("s3").list_buckets()
    assert iam_lab.admin.client("s3").list_buckets()["Buckets"] == []
