"""The domain user of a host outside the domain.

A domainless host is not a domain member, so it cannot read a gMSA's managed
password as itself: a domain user allowed to read it (listed in the gMSA's
``msDS-GroupMSAMembership``) does instead. The spec's ``PluginInput`` names a
Secrets Manager secret holding that user (``username``, ``password``,
``domainName``); the Linux host agent reads it and hands it to the ticket
service, which reads passwords as that user, and the ticket service reads it
itself for ARN leases (:func:`read_domainless_user`, one reading for both).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from gmsa.aws import AwsConfig, get_secret_string
from gmsa.errors import InvalidInputError
from gmsa.printable import has_surrogates
from gmsa.reference import parse_secret_arn

MAX_SECRET_BYTES = 64 * 1024
"""The largest user secret read (Secrets Manager allows 64 KiB)."""


class UserSecretError(InvalidInputError):
    """The domainless user secret is not a Secrets Manager ARN, or not the expected document."""

    code = "invalid-domainless-secret"


@dataclass(frozen=True)
class DomainlessUser:
    """A domain user allowed to read gMSA passwords. Never printed with its password."""

    username: str
    """sAMAccountName or UPN of the user."""
    domain: str
    """The user's domain (DNS name)."""
    password: str = field(repr=False)
    """The user's password. Secret: kept in memory only, never written or logged."""

    @property
    def key(self) -> tuple[str, ...]:
        """Identity for sharing work; two passwords for one user never share results."""
        digest = hashlib.sha256(self.password.encode("utf-8", "surrogatepass")).hexdigest()
        return ("user", self.username.lower(), self.domain.lower(), digest)

    @property
    def user_key(self) -> tuple[str, str]:
        """The user without the password: how leases remember whose they are."""
        return (self.username.lower(), self.domain.lower())

    def __str__(self) -> str:
        return f"{self.username}@{self.domain}"


_SECRET_SHAPE = '{"username": ..., "password": ..., "domainName": ...}'  # noqa: S105


def read_domainless_user(aws: AwsConfig, arn: str) -> DomainlessUser:
    """The domain user in the Secrets Manager secret ``arn``, read with ``aws``.

    The secret is the JSON object ``{"username": ..., "password": ..., "domainName": ...}``
    (other keys, such as ``distinguishedName``, are ignored). No error quotes any of it;
    an AWS refusal is the typed error of :func:`gmsa.aws.aws_error`.
    """
    secret = parse_secret_arn(arn)
    if secret is None:
        raise UserSecretError(
            "the credentialArn is not a Secrets Manager secret ARN (on Linux the user "
            "secret is read from Secrets Manager)",
            where=arn[:200],
            fix="store the user secret in Secrets Manager and give its ARN "
            "(arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)",
        )
    return _user_from_secret(aws, arn, secret.region)


def read_host_user(aws: AwsConfig, secret: str) -> DomainlessUser:
    """The domain user a host outside the domain acts as, from the Secrets Manager secret
    named ``secret`` (a name in the configuration's region, or an ARN): what
    ``CREDENTIALS_FETCHER_SECRET_NAME_FOR_DOMAINLESS_GMSA`` names on an ECS host."""
    located = parse_secret_arn(secret)
    return _user_from_secret(aws, secret, located.region if located else None)


def _user_from_secret(aws: AwsConfig, arn: str, region: str | None) -> DomainlessUser:
    where = f"secretsmanager:GetSecretValue on {arn}"
    text = get_secret_string(aws, arn, region=region)
    if text is None:
        raise UserSecretError(
            "the user secret has no SecretString (a binary secret cannot be read)",
            where=where,
            fix=f"store the secret as JSON text: {_SECRET_SHAPE}",
        )
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SECRET_BYTES:
        raise UserSecretError(
            "the user secret is larger than 64 KiB", where=where, fix="store only the user"
        )
    try:
        document = json.loads(text)
    except ValueError:
        # The parser's message may quote the secret: say only that it is not JSON.
        document = None
    if not isinstance(document, dict):
        raise UserSecretError(
            "the user secret is not a JSON object", where=where, fix=f"store {_SECRET_SHAPE}"
        )
    values: dict[str, str] = {}
    for key in ("username", "password", "domainName"):
        value = document.get(key)
        if not isinstance(value, str) or not value:
            raise UserSecretError(
                f"the user secret has no non-empty string {key!r}",
                where=where,
                fix=f"store {_SECRET_SHAPE} (key names are case-sensitive)",
            )
        if has_surrogates(value):
            raise UserSecretError(
                f"the user secret's {key!r} holds a lone surrogate escape (\\uD800-\\uDFFF), "
                "which stands for no character",
                where=where,
                fix=f"store {key!r} as plain text (each character itself)",
            )
        values[key] = value
    return DomainlessUser(
        username=values["username"], password=values["password"], domain=values["domainName"]
    )


__all__ = [
    "MAX_SECRET_BYTES",
    "DomainlessUser",
    "UserSecretError",
    "read_domainless_user",
    "read_host_user",
]
