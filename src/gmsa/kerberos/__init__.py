"""Kerberos for Active Directory, in-process: no kinit, no system krb5.conf, no C library.

Each part has one module:

- :mod:`.principal`: principal names and their name types;
- :mod:`.keys`: encryption types, keys and key derivation (AES string-to-key, the
  NT hash, the salt and keys of a gMSA from its managed password);
- :mod:`.crypto`: RFC 3961 encryption and checksums with a key;
- :mod:`.ticket`: a ticket with its session key, times and flags;
- :mod:`.ccache` and :mod:`.keytab`: the MIT file formats, each read *and* written in
  its module;
- :mod:`.kdc`: the AS and TGS exchanges with a domain's KDCs;
- :mod:`.gssapi`: the Kerberos GSS-API mechanism that seals an LDAP connection;
- :mod:`.errors`: what fails, with where and how to fix it.

The formats and exchanges are described in ``docs/background.md``.
"""

__all__ = [
    "binary",
    "ccache",
    "crypto",
    "errors",
    "gssapi",
    "kdc",
    "keys",
    "keytab",
    "md4",
    "principal",
    "ticket",
]
