"""Plays the ECS agent: a client generated from the .proto alone, run as its own process.

Usage: python agent_client.py GENERATED_DIR SOCKET SCENARIO_JSON
Prints one JSON object with what the service answered. The generated modules are
made by protoc from the repository's .proto with the agent's layout
(``credentialsfetcher.proto`` at the root of the include path), not gmsa's.
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    sys.path.insert(0, sys.argv[1])
    import credentialsfetcher_pb2 as pb  # type: ignore[import-not-found]
    import credentialsfetcher_pb2_grpc as pb_grpc  # type: ignore[import-not-found]
    import grpc

    scenario = json.loads(sys.argv[3])
    out: dict[str, object] = {}
    with grpc.insecure_channel(f"unix:{sys.argv[2]}") as channel:
        stub = pb_grpc.CredentialsFetcherServiceStub(channel)
        out["health"] = stub.HealthCheck(
            pb.HealthCheckRequest(service="credentials-fetcher"), timeout=30
        ).status
        joined = stub.AddKerberosLease(
            pb.CreateKerberosLeaseRequest(credspec_contents=scenario["specs"]), timeout=30
        )
        out["lease_id"] = joined.lease_id
        out["paths"] = list(joined.created_kerberos_file_paths)
        domainless = stub.AddNonDomainJoinedKerberosLease(
            pb.CreateNonDomainJoinedKerberosLeaseRequest(
                credspec_contents=scenario["specs"][:1],
                username=scenario["username"],
                password=scenario["password"],
                domain=scenario["domain"],
            ),
            timeout=30,
        )
        out["domainless_lease_id"] = domainless.lease_id
        out["domainless_paths"] = list(domainless.created_kerberos_file_paths)
        renewed = stub.RenewNonDomainJoinedKerberosLease(
            pb.RenewNonDomainJoinedKerberosLeaseRequest(
                username=scenario["username"],
                password=scenario["password"],
                domain=scenario["domain"],
            ),
            timeout=30,
        )
        out["renewed"] = list(renewed.renewed_kerberos_file_paths)
        deleted = stub.DeleteKerberosLease(
            pb.DeleteKerberosLeaseRequest(lease_id=joined.lease_id), timeout=30
        )
        out["deleted_lease_id"] = deleted.lease_id
        out["deleted"] = list(deleted.deleted_kerberos_file_paths)
        try:
            stub.AddKerberosLease(pb.CreateKerberosLeaseRequest(credspec_contents=[]), timeout=30)
        except grpc.RpcError as exc:
            out["empty_error"] = [exc.code().name, exc.details()]
        if "arn_entries" in scenario:
            keys = scenario["aws_keys"]
            arn_lease = stub.AddKerberosArnLease(
                pb.KerberosArnLeaseRequest(credspec_arns=scenario["arn_entries"], **keys),
                timeout=30,
            )
            out["arn_lease_id"] = arn_lease.lease_id
            out["arn_tickets"] = [
                [t.credspec_arns, t.created_kerberos_file_paths]
                for t in arn_lease.krb_ticket_response_map
            ]
            renewed_arn = stub.RenewKerberosArnLease(
                pb.RenewKerberosArnLeaseRequest(**scenario["renew_keys"]),
                timeout=30,
            )
            out["arn_renew_status"] = renewed_arn.status
            try:
                stub.AddKerberosArnLease(
                    pb.KerberosArnLeaseRequest(
                        credspec_arns=scenario["arn_entries"], **{**keys, "session_token": ""}
                    ),
                    timeout=30,
                )
            except grpc.RpcError as exc:
                out["arn_missing_token_error"] = [exc.code().name, exc.details()]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
