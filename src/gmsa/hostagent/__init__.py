"""Host agents: prepare a task's gMSA credentials on a container host, and clean up.

:mod:`gmsa.hostagent.interface` says what every host agent does;
:mod:`gmsa.hostagent.windows` is the Windows one (CredentialSpecs directory and
``credentialspec=file://`` security options); :mod:`gmsa.hostagent.linux` the
Linux one (a Kerberos lease from the ticket service and a read-only bind mount).
"""

__all__ = [
    "docker_run",
    "interface",
    "ledger",
    "linux",
    "plan",
    "windows",
]
