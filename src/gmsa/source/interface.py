"""The interface every spec source implements, and the error family they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from gmsa.credspec.model import MAX_SPEC_BYTES
from gmsa.errors import ExternalError, InvalidInputError, NotFoundError
from gmsa.reference import Location


@dataclass(frozen=True)
class FetchedSpec:
    """The bytes of a credential spec and what identifies this version of them."""

    location: Location
    """Where it came from."""
    data: bytes
    """The document exactly as stored (not yet parsed)."""
    version: str | None
    """S3 ETag or SSM parameter version, used to revalidate cached copies."""


class SourceError(ExternalError):
    """A source failed or refused (exit code 3). Implementations subclass this."""

    code = "source-failure"


class SpecNotFoundError(NotFoundError, SourceError):
    """The spec file does not exist (AWS stores raise :class:`~gmsa.aws.AwsNotFoundError`)."""

    code = "spec-not-found"


class SpecTooLargeError(InvalidInputError):
    """The stored document is larger than a credential spec can be."""

    code = "spec-too-large"


class SpecSource(ABC):
    """Reads credential specs from one kind of store."""

    @abstractmethod
    def fetch(self, location: Location) -> FetchedSpec:
        """Fetch the spec at ``location`` (of this source's kind).

        Raises a :class:`~gmsa.errors.NotFoundError`, an
        :class:`~gmsa.errors.AccessDeniedError`, :class:`SpecTooLargeError`, or another
        :class:`~gmsa.errors.ExternalError`.
        """

    def current_version(self, location: Location) -> str | None:
        """The version the store holds now, cheaper than a fetch when it can be
        (HEAD for S3). ``None`` means "unknown": the caller must fetch."""
        return None


class SourceNotConfiguredError(InvalidInputError):
    """A reference needs a source that was not set up: a ``file://`` spec without the
    CredentialSpecs directory, or an S3/SSM spec without AWS settings."""

    code = "source-not-configured"


def too_large(size: int | str, where: str) -> SpecTooLargeError:
    """The error every source raises for an oversized document."""
    return SpecTooLargeError(
        f"the stored document is {size} bytes; a credential spec is at most {MAX_SPEC_BYTES}",
        where=where,
        fix="this is not a credential spec, or it holds far more than one needs: "
        "store the output of gmsa spec show --canonical",
    )


__all__ = [
    "FetchedSpec",
    "SourceError",
    "SourceNotConfiguredError",
    "SpecNotFoundError",
    "SpecSource",
    "SpecTooLargeError",
    "too_large",
]
