"""gmsa: Active Directory identities for containers through gMSA credential specs."""

__version__ = "0.1.0"
