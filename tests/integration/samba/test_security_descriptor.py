"""msDS-GroupMSAMembership descriptors as the Samba DC writes them."""

from __future__ import annotations

import pytest

from gmsa.ad.connection import PasswordCredentials, connected
from gmsa.ad.security_descriptor import (
    parse_security_descriptor,
    principals_allowed,
)
from tests.integration.samba.test_connection import options
from tests.support.samba import ADMIN, GMSA, GMSA_NO_READERS, HOST_DIRECT, PASSWORD, DomainLab


@pytest.mark.xdist_group("samba")
def test_samba_descriptor_decodes_to_the_allowed_principals(lab: DomainLab) -> None:
    with connected(options(lab), PasswordCredentials(ADMIN, PASSWORD)) as directory:
        found = directory.search(
            "DC=example,DC=com", f"(sAMAccountName={GMSA}$)", ["msDS-GroupMSAMembership"]
        )
    raw = found[0].first("msDS-GroupMSAMembership")
    assert raw is not None
    parsed = parse_security_descriptor(raw)
    accounts = lab.facts["accounts"]
    assert parsed.owner == "S-1-5-32-544"
    assert principals_allowed(parsed) == (
        accounts[f"{HOST_DIRECT}$"]["sid"],
        accounts["WebHosts"]["sid"],
    )


@pytest.mark.xdist_group("samba")
def test_samba_descriptor_with_no_ace_allows_no_one(lab: DomainLab) -> None:
    with connected(options(lab), PasswordCredentials(ADMIN, PASSWORD)) as directory:
        found = directory.search(
            "DC=example,DC=com",
            f"(sAMAccountName={GMSA_NO_READERS}$)",
            ["msDS-GroupMSAMembership"],
        )
    raw = found[0].first("msDS-GroupMSAMembership")
    assert raw is not None
    assert principals_allowed(parse_security_descriptor(raw)) == ()
