"""Credential providers by name, so ``gmsa tickets serve --provider NAME`` can pick one.

The domain controller backed provider registers itself as ``active-directory``
when its module is imported; :func:`create_provider` imports the built-in
modules on demand so ``serve`` does not load LDAP code it does not use.
Other providers (a test double, a site-specific one) call :func:`register_provider`.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable

from gmsa.tickets.config import ServiceSettings
from gmsa.tickets.errors import TicketConfigError
from gmsa.tickets.interface import CredentialProvider

ProviderFactory = Callable[[ServiceSettings], CredentialProvider]

DEFAULT_PROVIDER = "active-directory"
"""Reads passwords and gets tickets from the gMSA's domain controllers."""

_BUILTIN_MODULES = {DEFAULT_PROVIDER: "gmsa.tickets.activedirectory"}
"""Built-in providers and the module that registers each."""

_lock = threading.Lock()
_registry: dict[str, ProviderFactory] = {}


def register_provider(name: str, factory: ProviderFactory) -> None:
    """Make ``factory`` available as ``name`` (a later registration replaces an earlier one)."""
    with _lock:
        _registry[name] = factory


def available_providers() -> tuple[str, ...]:
    """Names that :func:`create_provider` may know (registered or built in)."""
    with _lock:
        return tuple(sorted(set(_registry) | set(_BUILTIN_MODULES)))


def create_provider(name: str, settings: ServiceSettings) -> CredentialProvider:
    """The provider registered as ``name``, built for ``settings``."""
    with _lock:
        factory = _registry.get(name)
    if factory is None and name in _BUILTIN_MODULES:
        try:
            importlib.import_module(_BUILTIN_MODULES[name])
        except ImportError:
            raise TicketConfigError(
                f"the {name!r} credential provider is not part of this installation",
                where="--provider",
                fix="install a gmsa version that includes it",
            ) from None
        with _lock:
            factory = _registry.get(name)
    if factory is None:
        raise TicketConfigError(
            f"no credential provider is named {name!r}",
            where="--provider",
            fix="choose one of: " + ", ".join(available_providers()),
        )
    return factory(settings)


__all__ = [
    "DEFAULT_PROVIDER",
    "ProviderFactory",
    "available_providers",
    "create_provider",
    "register_provider",
]
