"""The shared cache in front of S3 on the moto server."""

from __future__ import annotations

import threading

import pytest

from gmsa.aws import AwsConfig
from gmsa.errors import NotFoundError
from gmsa.reference import S3Location, SsmLocation, parse
from gmsa.source.cache import SpecCache
from gmsa.source.fetcher import SpecFetcher
from tests.support.moto import AwsLab

LOCATION = S3Location(partition="aws", bucket="specs", key="webapp01.json")


def config_for(lab: AwsLab) -> AwsConfig:
    return AwsConfig(
        region=lab.region,
        endpoint_url=lab.endpoint,
        access_key_id=lab.access_key,
        secret_access_key=lab.secret_key,
    )


def s3_calls(config: AwsConfig) -> list[str]:
    calls: list[str] = []
    config.client("s3").meta.events.register(
        "before-call.s3", lambda model, **_: calls.append(model.name)
    )
    return calls


def test_twenty_threads_fetching_one_spec_cause_one_get_object(aws: AwsLab) -> None:
    aws.put_object(LOCATION.bucket, LOCATION.key, b"{}")
    config = config_for(aws)
    calls = s3_calls(config)
    fetcher = SpecFetcher(aws=config, cache=SpecCache())
    barrier = threading.Barrier(20)
    results: list[bytes] = []

    def task() -> None:
        barrier.wait()
        results.append(fetcher.fetch(LOCATION).data)

    threads = [threading.Thread(target=task) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [b"{}"] * 20
    assert fetcher.fetch_count == 1
    assert calls == ["GetObject"]


def test_unchanged_object_is_revalidated_with_head_not_fetched_again(aws: AwsLab) -> None:
    aws.put_object(LOCATION.bucket, LOCATION.key, b"{}")
    config = config_for(aws)
    calls = s3_calls(config)
    fetcher = SpecFetcher(aws=config, cache=SpecCache(revalidate_after=0))
    fetcher.fetch(LOCATION)
    fetcher.fetch(LOCATION)
    assert calls == ["GetObject", "HeadObject"]
    assert fetcher.fetch_count == 1


def test_changed_object_is_fetched_again(aws: AwsLab) -> None:
    aws.put_object(LOCATION.bucket, LOCATION.key, b"{}")
    fetcher = SpecFetcher(aws=config_for(aws), cache=SpecCache(revalidate_after=0))
    fetcher.fetch(LOCATION)
    aws.put_object(LOCATION.bucket, LOCATION.key, b'{"changed": true}')
    assert fetcher.fetch(LOCATION).data == b'{"changed": true}'
    assert fetcher.fetch_count == 2


def test_a_missing_object_is_not_cached(aws: AwsLab) -> None:
    aws.client("s3").create_bucket(Bucket=LOCATION.bucket)
    fetcher = SpecFetcher(aws=config_for(aws), cache=SpecCache())
    with pytest.raises(NotFoundError):
        fetcher.fetch(LOCATION)
    aws.put_object(LOCATION.bucket, LOCATION.key, b"{}")
    assert fetcher.fetch(LOCATION).data == b"{}"


def test_ssm_parameter_is_read_again_after_the_window(aws: AwsLab) -> None:
    arn = aws.put_parameter("/gmsa/webapp01", "{}")
    location = parse(arn, require_prefix=False).location
    assert isinstance(location, SsmLocation)
    fetcher = SpecFetcher(aws=config_for(aws), cache=SpecCache(revalidate_after=0))
    fetcher.fetch(location)
    aws.put_parameter("/gmsa/webapp01", "[]")
    fetched = fetcher.fetch(location)
    assert (fetched.data, fetched.version) == (b"[]", "2")
