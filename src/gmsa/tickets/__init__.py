"""Kerberos tickets for gMSAs on Linux hosts: the credentials-fetcher compatible service.

The ECS agent asks a daemon on the host, over gRPC on a unix socket, for a
*lease*: a directory per gMSA holding a ticket cache (``krb5cc``) that it
bind-mounts into the container. This package is that daemon:

- :mod:`gmsa.ad.managed_password` decodes ``msDS-ManagedPassword``;
  :mod:`gmsa.kerberos` turns the password into keys, gets the TGT and writes the
  ccache.
- :mod:`.interface` is what the service needs from Active Directory
  (:class:`~.interface.CredentialProvider`); a domain controller backed
  implementation (:mod:`.activedirectory`) plugs in there.
- :mod:`.leases` keeps leases on disk, :mod:`.acquire` shares in-flight work
  per gMSA, :mod:`.service` is the lease logic and renewal, :mod:`.server`
  and :mod:`.client` speak gRPC.
"""

__all__ = [
    "acquire",
    "activedirectory",
    "client",
    "config",
    "errors",
    "interface",
    "layout",
    "leases",
    "proto",
    "providers",
    "renewal",
    "server",
    "service",
]
