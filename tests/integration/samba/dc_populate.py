"""Fill a freshly provisioned (stopped) Samba AD DC with what the AD tests need.

Run by the system Python, which has Samba's bindings (``python3-samba`` comes
from apt, not pip): ``/usr/bin/python3 dc_populate.py SMB_CONF < plan.json``.
It writes straight into ``sam.ldb`` before the DC starts, in one process, which
takes about a second where a ``samba-tool`` call per object would take a dozen.

The plan (built by ``tests/support/samba.py``) is JSON:
``{"password": ..., "computers": [...], "groups": [...], "users": [...],
"gmsas": [...], "dns": [...], "dc_spns": [...], "keytabs": [...]}``.
Security descriptors are built from SDDL by Samba itself, so the tests decode
what a real DC encodes.
"""

import json
import sys

import ldb
import samba
from samba.auth import system_session
from samba.credentials import Credentials
from samba.dcerpc import dnsp, security
from samba.dnsserver import ARecord
from samba.ndr import ndr_pack
from samba.net import Net
from samba.param import LoadParm
from samba.samdb import SamDB


def main() -> None:
    smb_conf = sys.argv[1]
    plan = json.load(sys.stdin)
    lp = LoadParm()
    lp.load(smb_conf)
    db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
    base = str(db.domain_dn())
    domain_sid = security.dom_sid(db.get_domain_sid())
    dns_domain = lp.get("realm").lower()

    dc = db.search(base, expression="(userAccountControl:1.2.840.113556.1.4.803:=8192)")[0]
    spns = ldb.Message(dc.dn)
    spns["servicePrincipalName"] = ldb.MessageElement(
        plan["dc_spns"], ldb.FLAG_MOD_ADD, "servicePrincipalName"
    )
    db.modify(spns)

    for record in plan["dns"]:
        zone = f"DC={dns_domain},CN=MicrosoftDNS,DC=DomainDnsZones,{base}"
        node = ldb.Message(ldb.Dn(db, f"DC={record['name']},{zone}"))
        node["objectClass"] = ["top", "dnsNode"]
        packed = ARecord(record["address"], serial=1, ttl=300, rank=dnsp.DNS_RANK_ZONE)
        node["dnsRecord"] = [ndr_pack(packed)]
        db.add(node)

    for computer in plan["computers"]:
        db.newcomputer(computer["name"])
        db.setpassword(f"(sAMAccountName={computer['name']}$)", plan["password"])
    for user in plan["users"]:
        db.newuser(user["name"], plan["password"])
    for group in plan["groups"]:
        db.newgroup(group["name"])
    for group in plan["groups"]:
        members = group.get("members", [])
        if members:
            db.add_remove_group_members(group["name"], members, add_members_operation=True)

    for gmsa in plan["gmsas"]:
        aces = "".join(f"(A;;0xf01ff;;;{_sid_of(db, base, p)})" for p in gmsa["allowed"])
        # An empty DACL ("D:" with no ACE) lets no one read the password.
        sd = security.descriptor.from_sddl(f"O:BAD:{aces}", domain_sid)
        name = gmsa["name"]
        message = {
            "dn": f"CN={name},CN=Managed Service Accounts,{base}",
            "objectClass": "msDS-GroupManagedServiceAccount",
            "sAMAccountName": f"{name}$",
            "dNSHostName": f"{name.lower()}.{dns_domain}",
            "msDS-ManagedPasswordInterval": "30",
            "msDS-SupportedEncryptionTypes": "28",
            "msDS-GroupMSAMembership": ndr_pack(sd),
            "userAccountControl": str(gmsa.get("uac", 4096)),
        }
        if gmsa.get("spns"):
            message["servicePrincipalName"] = gmsa["spns"]
        db.add(message)

    facts = {"domain_sid": str(domain_sid), "domain_guid": _guid_of(db, base), "accounts": {}}
    names = [g["name"] + "$" for g in plan["gmsas"]] + [c["name"] + "$" for c in plan["computers"]]
    names += [u["name"] for u in plan["users"]] + [g["name"] for g in plan["groups"]]
    for name in names:
        found = db.search(base, expression=f"(sAMAccountName={name})", attrs=["objectSid"])
        facts["accounts"][name] = {
            "sid": _sid_of(db, base, name),
            "guid": _guid_of(db, str(found[0].dn)),
        }
    with open(plan["facts"], "w") as out:
        json.dump(facts, out)

    samba.enable_net_export_keytab()
    for keytab in plan["keytabs"]:
        # A fresh SamDB per export: export_keytab frees the one it is given (Samba 4.22
        # crashes on the second export otherwise).
        fresh = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
        credentials = Credentials()
        credentials.guess(lp)
        Net(credentials, lp).export_keytab(
            samdb=fresh, keytab=keytab["path"], principal=keytab["principal"]
        )


def _guid_of(db: SamDB, dn: str) -> str:
    found = db.search(dn, scope=ldb.SCOPE_BASE, attrs=["objectGUID"])
    return str(db.schema_format_value("objectGUID", found[0]["objectGUID"][0]).decode())


def _sid_of(db: SamDB, base: str, principal: str) -> str:
    found = db.search(base, expression=f"(sAMAccountName={principal})", attrs=["objectSid"])
    if len(found) != 1:
        raise SystemExit(f"no single account named {principal}")
    return str(db.schema_format_value("objectSid", found[0]["objectSid"][0]).decode())


if __name__ == "__main__":
    main()
