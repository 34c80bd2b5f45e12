"""Active Directory: find and reach domain controllers, read the domain and its gMSAs,
generate credential specs from them and check a whole setup (``gmsa doctor``).

The way in: :mod:`gmsa.ad.connection` (connect, LdapConnection), then
:mod:`gmsa.ad.domain`, :mod:`gmsa.ad.accounts`, :mod:`gmsa.ad.specgen` and
:mod:`gmsa.ad.doctor`; errors in :mod:`gmsa.ad.errors`.
"""

__all__ = [
    "access",
    "accounts",
    "connection",
    "discovery",
    "doctor",
    "domain",
    "errors",
    "managed_password",
    "sasl",
    "security_descriptor",
    "specgen",
]
