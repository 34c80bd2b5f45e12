"""One entry point to read a credential spec wherever it is stored.

:class:`SpecFetcher` picks the source from the location's kind (S3, SSM, a
``file://`` in the spec directory) and, given a :class:`SpecCache`, shares
fetches between callers. :attr:`SpecFetcher.fetch_count` counts the real reads,
so tests and benchmarks can see what the cache saved.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from pathlib import Path

from gmsa.aws import AwsConfig
from gmsa.reference import FileLocation, Location, S3Location, SsmLocation
from gmsa.source.cache import SpecCache
from gmsa.source.interface import FetchedSpec, SourceNotConfiguredError, SpecSource
from gmsa.source.localdir import LocalDirSource
from gmsa.source.s3 import S3Source
from gmsa.source.ssm import SsmSource


class SpecFetcher:
    """Fetches specs from S3, SSM or a directory; safe to share between threads."""

    def __init__(
        self,
        *,
        aws: AwsConfig | None = None,
        spec_dir: Path | None = None,
        cache: SpecCache | None = None,
    ) -> None:
        self.aws = aws
        """AWS settings (with the task execution role) for S3 and SSM specs."""
        self.spec_dir = spec_dir
        """The directory ``file://`` references are relative to."""
        self.cache = cache
        """Shared cache, or None to read the store on every call."""
        self.fetch_count = 0
        """Real reads made (GetObject, GetParameters, file reads); revalidations not counted."""
        self._count_lock = threading.Lock()
        self._sources: dict[str, SpecSource] = {}

    def source_for(self, location: Location) -> SpecSource:
        """The source that reads ``location``; a typed error when it is not set up."""
        if isinstance(location, FileLocation):
            if self.spec_dir is None:
                raise SourceNotConfiguredError(
                    f"{location} is relative to a CredentialSpecs directory, but none was given",
                    where=str(location),
                    fix="give the directory (--credspec-dir) holding the host's credential specs",
                )
            return self._source("file", lambda: LocalDirSource(self.spec_dir or Path()))
        aws = self.aws
        if aws is None:
            raise SourceNotConfiguredError(
                f"{location} is stored in AWS, but no AWS settings were given",
                where=str(location),
                fix="give the AWS options (--region, --role-arn, --endpoint-url, --profile)",
            )
        if isinstance(location, S3Location):
            return self._source("s3", lambda: S3Source(aws))
        assert isinstance(location, SsmLocation)
        return self._source("ssm", lambda: SsmSource(aws))

    def _source(self, kind: str, make: Callable[[], SpecSource]) -> SpecSource:
        with self._count_lock:
            source = self._sources.get(kind)
            if source is None:
                source = make()
                self._sources[kind] = source
            return source

    def _scope(self, location: Location) -> Hashable:
        """What, besides the location, decides what a read returns: the directory,
        or who reads and through which endpoint."""
        if isinstance(location, FileLocation):
            return ("file", str(self.spec_dir))
        aws = self.aws
        assert aws is not None
        return (
            "aws",
            aws.endpoint_url,
            aws.profile,
            aws.access_key_id,
            aws.role_arn,
            aws.region,
        )

    def fetch(self, location: Location) -> FetchedSpec:
        """The spec at ``location``, through the cache when there is one."""
        source = self.source_for(location)

        def load() -> FetchedSpec:
            with self._count_lock:
                self.fetch_count += 1
            return source.fetch(location)

        if self.cache is None:
            return load()
        return self.cache.get(
            location,
            load,
            lambda: source.current_version(location),
            scope=self._scope(location),
        )


__all__ = [
    "SpecFetcher",
]
