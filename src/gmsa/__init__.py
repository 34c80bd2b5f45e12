"""gmsa: Active Directory identities for containers through gMSA credential specs."""

__version__ = "0.1.0"


# The library: every package and module a program may import. The command line
# (gmsa.cli, gmsa.demo) is the CLI's own.
__all__ = [
    "ad",
    "aws",
    "credspec",
    "domainless",
    "errors",
    "findings",
    "fsutil",
    "hostagent",
    "iam",
    "identifiers",
    "jsondoc",
    "kerberos",
    "localaws",
    "reference",
    "singleflight",
    "source",
    "taskdef",
    "tickets",
]
