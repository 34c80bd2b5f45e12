"""The committed proto and generated modules are the credentials-fetcher wire contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from gmsa.tickets.proto import credentialsfetcher_pb2 as pb
from tests.support.agent_rpc import PROTO

STRING = descriptor_pb2.FieldDescriptorProto.TYPE_STRING
MESSAGE = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
REPEATED = descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
SINGLE = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL

CONTRACT = {
    "CreateKerberosLeaseRequest": [("credspec_contents", 1, REPEATED)],
    "CreateKerberosLeaseResponse": [
        ("lease_id", 1, SINGLE), ("created_kerberos_file_paths", 2, REPEATED),
    ],
    "CreateNonDomainJoinedKerberosLeaseRequest": [
        ("credspec_contents", 1, REPEATED), ("username", 2, SINGLE),
        ("password", 3, SINGLE), ("domain", 4, SINGLE),
    ],
    "CreateNonDomainJoinedKerberosLeaseResponse": [
        ("lease_id", 1, SINGLE), ("created_kerberos_file_paths", 2, REPEATED),
    ],
    "RenewNonDomainJoinedKerberosLeaseRequest": [
        ("username", 1, SINGLE), ("password", 2, SINGLE), ("domain", 3, SINGLE),
    ],
    "RenewNonDomainJoinedKerberosLeaseResponse": [("renewed_kerberos_file_paths", 1, REPEATED)],
    "DeleteKerberosLeaseRequest": [("lease_id", 1, SINGLE)],
    "DeleteKerberosLeaseResponse": [
        ("lease_id", 1, SINGLE), ("deleted_kerberos_file_paths", 2, REPEATED),
    ],
    "HealthCheckRequest": [("service", 1, SINGLE)],
    "HealthCheckResponse": [("status", 1, SINGLE)],
    "KerberosArnLeaseRequest": [
        ("credspec_arns", 1, REPEATED), ("access_key_id", 2, SINGLE),
        ("secret_access_key", 3, SINGLE), ("session_token", 4, SINGLE), ("region", 5, SINGLE),
    ],
    "KerberosTicketArnResponse": [
        ("credspec_arns", 1, SINGLE), ("created_kerberos_file_paths", 2, SINGLE),
    ],
    "CreateKerberosArnLeaseResponse": [
        ("lease_id", 1, SINGLE), ("krb_ticket_response_map", 2, REPEATED),
    ],
    "RenewKerberosArnLeaseRequest": [
        ("access_key_id", 1, SINGLE), ("secret_access_key", 2, SINGLE),
        ("session_token", 3, SINGLE), ("region", 4, SINGLE),
    ],
    "RenewKerberosArnLeaseResponse": [("status", 1, SINGLE)],
}  # fmt: skip

MESSAGE_FIELDS = {
    ("CreateKerberosArnLeaseResponse", "krb_ticket_response_map"): (
        ".credentialsfetcher.KerberosTicketArnResponse"
    ),
}
"""Fields whose type is a message (every other field is a string)."""

RPCS = {
    "AddKerberosLease": ("CreateKerberosLeaseRequest", "CreateKerberosLeaseResponse"),
    "AddNonDomainJoinedKerberosLease": (
        "CreateNonDomainJoinedKerberosLeaseRequest",
        "CreateNonDomainJoinedKerberosLeaseResponse",
    ),
    "RenewNonDomainJoinedKerberosLease": (
        "RenewNonDomainJoinedKerberosLeaseRequest",
        "RenewNonDomainJoinedKerberosLeaseResponse",
    ),
    "DeleteKerberosLease": ("DeleteKerberosLeaseRequest", "DeleteKerberosLeaseResponse"),
    "HealthCheck": ("HealthCheckRequest", "HealthCheckResponse"),
    "AddKerberosArnLease": ("KerberosArnLeaseRequest", "CreateKerberosArnLeaseResponse"),
    "RenewKerberosArnLease": ("RenewKerberosArnLeaseRequest", "RenewKerberosArnLeaseResponse"),
}


def committed() -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto()
    pb.DESCRIPTOR.CopyToProto(proto)
    return proto


def test_package_and_service_names_match_credentials_fetcher() -> None:
    proto = committed()
    assert proto.package == "credentialsfetcher"
    assert [s.name for s in proto.service] == ["CredentialsFetcherService"]


def test_every_rpc_has_the_agents_request_and_response_types() -> None:
    methods = {m.name: (m.input_type, m.output_type) for m in committed().service[0].method}
    assert methods == {
        name: (f".credentialsfetcher.{req}", f".credentialsfetcher.{resp}")
        for name, (req, resp) in RPCS.items()
    }


def test_every_field_has_the_agents_name_number_and_label() -> None:
    messages = {
        m.name: [(f.name, f.number, f.label) for f in m.field] for m in committed().message_type
    }
    assert messages == CONTRACT
    types = {
        (m.name, f.name): f.type_name if f.type == MESSAGE else f.type
        for m in committed().message_type
        for f in m.field
    }
    assert types == {key: MESSAGE_FIELDS.get(key, STRING) for key in types}


def test_the_committed_modules_were_generated_from_the_committed_proto(tmp_path: Path) -> None:
    protoc = pytest.importorskip("grpc_tools.protoc")
    out = tmp_path / "set.pb"
    code = protoc.main(
        ["protoc", f"--proto_path={PROTO.parents[3]}", f"--descriptor_set_out={out}", str(PROTO)]
    )
    assert code == 0
    fresh = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file[0]
    for message in fresh.message_type:  # protoc adds JSON names; generated code omits them
        for item in message.field:
            item.ClearField("json_name")
    assert fresh == committed(), "run scripts/gen-proto and commit the result"
