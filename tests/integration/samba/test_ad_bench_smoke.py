"""The AD benchmark's code runs (so it cannot rot) and its round-trip counts hold: batching
means a doctor run costs the same number of LDAP exchanges for one gMSA or seven."""

from __future__ import annotations

import pytest
from benchmarks.ad_bench import ALL_GMSAS, doctor_once, spec_new_once

from gmsa.ad.connection import KeytabCredentials, PasswordCredentials
from tests.support.samba import ADMIN, GMSA, PASSWORD, DomainLab

pytestmark = pytest.mark.xdist_group("samba")


def test_spec_new_takes_eight_ldap_and_two_kdc_round_trips(lab: DomainLab) -> None:
    # bind 3 + rootDSE, domain, partitions 3 + accounts and host 1 + host's groups 1;
    # the KDC: the TGT in one AS exchange (keytab keys need no salt), the ldap/ ticket
    assert spec_new_once(lab, KeytabCredentials(lab.host_keytab)) == (8, 2)


def test_doctor_round_trips_do_not_grow_with_the_number_of_gmsas(lab: DomainLab) -> None:
    admin = PasswordCredentials(ADMIN, PASSWORD)
    one, _ = doctor_once(lab, admin, (GMSA,))
    many, checks = doctor_once(lab, admin, ALL_GMSAS)
    assert one == many == 9
    assert checks > 40
