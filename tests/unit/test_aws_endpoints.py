"""Bad endpoints and regions, on real loopback sockets (no AWS, no moto).

- A region or endpoint that cannot be one is refused when the configuration is made,
  and on the command line it is a usage error (exit 2) naming the option with a valid
  form, for every command with AWS options.
- An answer that is not AWS's (a proxy's HTML page with status 200, garbage, an HTML
  404) is named as such for every service gmsa calls, never "does not exist".
- An endpoint that accepts connections and never answers is given up at one deadline
  per request (``--timeout``), over all tries; the error says how long and how many.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from gmsa.aws import (
    AwsConfig,
    AwsConnectionError,
    AwsError,
    AwsNotFoundError,
    AwsOptionError,
    aws_error,
    check_endpoint_url,
    check_region,
    get_secret_string,
    not_aws_reason,
)
from gmsa.cli.main import cli
from gmsa.errors import GmsaError
from gmsa.iam.role import RoleReadError, role_policies
from gmsa.reference import parse_location
from gmsa.source.s3 import S3Source
from gmsa.source.ssm import SsmSource
from tests.support.cli import within
from tests.support.endpoints import PROXY_PAGE, answering, closed_port, silent

ROLE = "arn:aws:iam::123456789012:role/exec"
S3_ARN = "arn:aws:s3:::bucket/specs/webapp01.json"
SSM_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/webapp01"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gmsa-user-AbCdEf"


def config(endpoint: str, **kwargs: Any) -> AwsConfig:
    return AwsConfig(
        region="us-east-1",
        endpoint_url=endpoint,
        access_key_id="testing",
        secret_access_key="testing",
        **kwargs,
    )


# Each service gmsa calls, called the way gmsa calls it (ECS, which gmsa does not
# call, through a plain guarded client: every client is guarded the same way).
CALLS: dict[str, Callable[[AwsConfig], object]] = {
    "s3": lambda aws: S3Source(aws).fetch(parse_location(S3_ARN)),
    "ssm": lambda aws: SsmSource(aws).fetch(parse_location(SSM_ARN)),
    "iam": lambda aws: role_policies(aws, ROLE),
    "sts": lambda aws: aws.caller_account(),
    "secretsmanager": lambda aws: get_secret_string(aws, SECRET, region="us-east-1"),
    "ecs": lambda aws: aws.client("ecs").describe_task_definition(taskDefinition="web"),
}


def failure(service: str, aws: AwsConfig) -> GmsaError:
    """The typed error the call of ``service`` ends in (a raw botocore error is mapped
    the way every caller maps it)."""
    try:
        with within(30):
            CALLS[service](aws)
    except GmsaError as exc:
        return exc
    except Exception as exc:
        return aws_error(exc, action="ecs:DescribeTaskDefinition", resource="web")
    raise AssertionError(f"{service}: the call succeeded")


def said(error: GmsaError) -> str:
    return f"{error.what} {error.fix}"


def waited_in(error: GmsaError) -> float:
    """The seconds a request waited, as its error says ("waited 1.5 s")."""
    match = re.search(r"waited (\d+\.\d) s", error.what)
    assert match is not None, error.what
    return float(match.group(1))


# -- an answer that is not AWS's ------------------------------------------------------


@pytest.mark.parametrize("service", CALLS)
def test_a_proxy_page_with_status_200_is_named_as_not_aws(service: str) -> None:
    with answering(200, PROXY_PAGE) as endpoint:
        error = failure(service, config(endpoint))
    assert error.exit_code == 3
    assert not isinstance(error, AwsNotFoundError)
    assert f"the endpoint {endpoint} did not answer as AWS" in said(error)
    assert "HTML page" in said(error)
    assert "--endpoint-url" in (error.fix or "")
    if service != "iam":  # IAM's error keeps its own type and code (role-read-failed)
        assert type(error) is AwsError


@pytest.mark.parametrize("service", CALLS)
def test_an_html_404_is_not_taken_for_a_missing_spec(service: str) -> None:
    with answering(404, b"<html><body>Not Found</body></html>") as endpoint:
        error = failure(service, config(endpoint))
    assert not isinstance(error, AwsNotFoundError)
    assert "did not answer as AWS" in said(error)
    assert "does not exist" not in said(error)


GARBAGE = b"\x00\x01 not an AWS answer"
WITH_ID = {"Content-Type": "application/octet-stream", "x-amzn-RequestId": "r-1"}


@pytest.mark.parametrize("service", [s for s in CALLS if s != "s3"])
def test_garbage_is_named_as_not_aws_even_with_a_request_id(service: str) -> None:
    with answering(200, GARBAGE, WITH_ID) as endpoint:
        error = failure(service, config(endpoint))
    assert "did not answer as AWS" in said(error)
    assert "not a JSON object" in said(error) or "not XML" in said(error)


def test_an_s3_object_may_hold_anything_when_s3_answered() -> None:
    with answering(200, GARBAGE, {**WITH_ID, "ETag": '"e"'}) as endpoint:
        fetched = S3Source(config(endpoint)).fetch(parse_location(S3_ARN))
    assert fetched.data == GARBAGE


@pytest.mark.parametrize(
    ("status", "headers", "body", "protocol", "verdict"),
    [
        (
            200,
            {},
            b"<html>login</html>",
            "json",
            "HTTP 200 with an HTML page and no AWS request id",
        ),
        (
            200,
            {"x-amz-request-id": "1"},
            b"<html>x</html>",
            "rest-xml",
            "HTTP 200 with an HTML page",
        ),
        (200, {"X-Amzn-RequestId": "1"}, b'{"Parameters": []}', "json", None),
        (200, {"x-amzn-requestid": "1"}, b"[1]", "json", "not a JSON object"),
        (200, {"x-amzn-requestid": "1"}, b"{}", "query", "not XML"),
        (200, {"x-amzn-requestid": "1"}, b"", "json", None),
        (200, {"x-amz-request-id": "1", "Content-Type": "text/html"}, None, "rest-xml", None),
        (200, {"Content-Type": "text/html"}, None, "rest-xml", "an HTML page and no AWS"),
        (403, {"x-amzn-requestid": "1"}, b"<ErrorResponse/>", "json", None),
        (404, {}, b"", "json", "HTTP 404 with an empty body and no AWS request id"),
        (503, {}, b"<html>busy</html>", "json", None),
    ],
)
def test_not_aws_reason(
    status: int, headers: dict[str, str], body: bytes | None, protocol: str, verdict: str | None
) -> None:
    reason = not_aws_reason(status, headers, body, protocol)
    if verdict is None:
        assert reason is None
    else:
        assert reason is not None
        assert verdict in reason


# -- one deadline per request -----------------------------------------------------------


@pytest.mark.parametrize("service", CALLS)
def test_a_silent_endpoint_is_given_up_at_the_deadline(service: str) -> None:
    with silent() as server:
        started = time.monotonic()
        error = failure(service, config(server.endpoint, timeout=1.5))
        waited = time.monotonic() - started
    assert isinstance(error, AwsConnectionError | RoleReadError)
    assert error.exit_code == 3
    # The request itself (its own clock, in the message) kept to the deadline; the wall
    # clock also counts making the client, slow on a loaded machine (without the
    # deadline, one try alone waited the 15 s read timeout).
    assert 1.4 <= waited_in(error) <= 1.5 + 0.5
    assert waited < 1.5 + 10
    assert "no answer within 1.5 s (waited 1." in said(error)
    assert "took the connection but sent no answer in time" in said(error)
    assert "--timeout" in (error.fix or "")


def test_the_deadline_holds_over_every_try_and_says_how_many() -> None:
    with silent() as server:
        started = time.monotonic()
        error = failure("sts", config(server.endpoint, timeout=3.0, read_timeout=1.0))
        waited = time.monotonic() - started
        connections = len(server.connections)
    assert 2.9 <= waited_in(error) <= 3.0 + 0.5
    assert waited < 3.0 + 10
    assert connections >= 2  # each try waited only 1 s, then tried again on a new connection
    assert f"over {connections} tries" in error.what


def test_refused_connections_say_how_many_tries_were_made() -> None:
    error = failure("sts", config(closed_port(), max_attempts=3))
    assert isinstance(error, AwsConnectionError)
    assert "cannot reach" in error.what
    assert "no answer on any of 3 tries" in error.what
    assert "could not be connected to" in error.what


def test_a_timeout_of_zero_is_refused() -> None:
    with pytest.raises(AwsOptionError):
        AwsConfig(timeout=0)


# -- regions and endpoints that cannot be one ----------------------------------------------

GOOD_REGIONS = ["us-east-1", "eu-west-3", "us-gov-west-1", "cn-north-1", "us-isob-east-1"]
BAD_REGIONS = ["not a region", "US-EAST-1", "us-east", "useast1", "us-east-1\n", "", "-1"]


@pytest.mark.parametrize("region", GOOD_REGIONS)
def test_region_names_follow_the_pattern(region: str) -> None:
    assert check_region(region) == region
    assert AwsConfig(region=region).region == region


@pytest.mark.parametrize("region", BAD_REGIONS)
def test_a_region_that_is_not_one_is_refused(region: str) -> None:
    with pytest.raises(AwsOptionError) as caught:
        AwsConfig(region=region)
    assert caught.value.option == "--region"
    assert "us-east-1" in (caught.value.fix or "")


GOOD_ENDPOINTS = [
    "http://localhost:4566",
    "https://s3.eu-west-1.amazonaws.com",
    "http://127.0.0.1:5000/",
    "http://[::1]:4566",
    "https://vpce-1a2b.s3.us-east-1.vpce.amazonaws.com",
]
BAD_ENDPOINTS = {
    "localhost:4566": ("no scheme", "http://localhost:4566"),
    "s3.amazonaws.com": ("no scheme", "https://s3.amazonaws.com"),
    "http://[::1": ("IPv6 address is broken", "http://[::1]:4566"),
    "http://[zz]:1": ("IPv6 address is broken", "http://[::1]:4566"),
    "ftp://example.com": ("the scheme is 'ftp'", "https://example.com"),
    "http://": ("names no host", "http://HOST:PORT"),
    "http://h:99999": ("port", "http://HOST:PORT"),
    "http://h:port": ("port", "http://HOST:PORT"),
    "http://a..b": ("not a host name", "http://HOST:PORT"),
    "http://h \x7f": ("spaces", "http://HOST:PORT"),
    "http://h\udcff": ("not UTF-8", "http://HOST:PORT"),
    "http://user:pw@h": ("user name or password", "http://h"),
}


@pytest.mark.parametrize("url", GOOD_ENDPOINTS)
def test_endpoint_urls_botocore_can_use_are_kept(url: str) -> None:
    assert check_endpoint_url(url) == url
    assert config(url).client("sts").meta.endpoint_url.rstrip("/") == url.rstrip("/")


@pytest.mark.parametrize("url", BAD_ENDPOINTS)
def test_an_endpoint_that_cannot_be_one_is_refused_with_a_valid_form(url: str) -> None:
    what, form = BAD_ENDPOINTS[url]
    with pytest.raises(AwsOptionError) as caught:
        AwsConfig(endpoint_url=url)
    assert what in caught.value.what
    assert form in (caught.value.fix or "")
    assert caught.value.option == "--endpoint-url"
    caught.value.diagnostics().encode("ascii")


def _commands_with(param: str) -> Iterator[tuple[list[str], click.Command]]:
    def walk(command: click.Command, path: list[str]) -> Iterator[tuple[list[str], click.Command]]:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk(sub, [*path, name])
        elif any(p.name == param for p in command.params):
            yield path, command

    return walk(cli, [])


AWS_COMMANDS = [path for path, _ in _commands_with("endpoint_url")]


def test_every_command_that_talks_to_aws_has_the_shared_options() -> None:
    assert ["task", "check"] in AWS_COMMANDS
    assert ["iam", "check"] in AWS_COMMANDS
    assert ["spec", "publish"] in AWS_COMMANDS
    for path, command in _commands_with("endpoint_url"):
        names = {p.name for p in command.params}
        assert {"region", "aws_timeout"} <= names, path


def usage(args: list[str], env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.mark.parametrize("command", AWS_COMMANDS, ids=" ".join)
def test_a_bad_endpoint_or_region_is_a_usage_error_in_every_command(command: list[str]) -> None:
    said_endpoint = usage([*command, "--endpoint-url", "localhost:4566"])
    assert "'--endpoint-url'" in said_endpoint
    assert "http://localhost:4566" in said_endpoint
    said_region = usage([*command, "--region", "not a region"])
    assert "'--region'" in said_region
    assert "us-east-1" in said_region
    said_ipv6 = usage([*command, "--endpoint-url", "http://[::1"])
    assert "IPv6" in said_ipv6
    said_timeout = usage([*command, "--timeout", "0"])
    assert "--timeout" in said_timeout


def test_the_environment_variable_is_named_when_the_bad_value_came_from_it() -> None:
    output = usage(["spec", "publish", "x.json", "s3://b/k"], env={"AWS_ENDPOINT_URL": "h:1"})
    assert "(from AWS_ENDPOINT_URL)" in output
    output = usage(
        ["task", "check", "t.json"], env={"AWS_REGION": "bogus", "AWS_DEFAULT_REGION": ""}
    )
    assert "(from AWS_REGION or AWS_DEFAULT_REGION)" in output


# -- through the command line ---------------------------------------------------------

ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": None}


def _taskdef(tmp_path: Path, reference: str) -> Path:
    path = tmp_path / "taskdef.json"
    container = {"name": "web", "image": "img", "dockerSecurityOptions": [reference]}
    path.write_text(json.dumps({"family": "web", "containerDefinitions": [container]}))
    return path


def run(args: list[str]) -> tuple[Any, float]:
    started = time.monotonic()
    with within(60):
        result = CliRunner(env=ENV).invoke(cli, [*args, "--region", "us-east-1", "--json"])
    return result, time.monotonic() - started


def test_task_check_gives_up_on_a_silent_endpoint_at_the_timeout(tmp_path: Path) -> None:
    taskdef = _taskdef(tmp_path, f"credentialspec:{S3_ARN}")
    with silent() as server:
        result, waited = run(
            [
                "task",
                "check",
                str(taskdef),
                "--fetch",
                "--endpoint-url",
                server.endpoint,
                "--timeout",
                "2",
            ]
        )
    assert result.exit_code == 3, result.output
    assert waited < 2 + 10  # with the CLI start-up; one try alone used to wait 15 s
    text = json.dumps(json.loads(result.stdout))
    assert "no answer within 2 s" in text
    assert re.search(r"waited 2\.\d s over \d+ tr(y|ies)", text), text


def test_iam_check_names_a_proxy_page_as_not_aws(tmp_path: Path) -> None:
    with answering(200, PROXY_PAGE) as endpoint:
        result, _ = run(
            [
                "iam",
                "check",
                f"credentialspec:{SSM_ARN}",
                "--check-role",
                ROLE,
                "--endpoint-url",
                endpoint,
            ]
        )
    assert result.exit_code == 3, result.output
    document = json.loads(result.stdout)
    assert "did not answer as AWS" in document["error"]["message"]


def test_spec_publish_names_a_proxy_page_as_not_aws(
    tmp_path: Path, example_spec_file: Path
) -> None:
    with answering(200, PROXY_PAGE) as endpoint:
        result, _ = run(
            [
                "spec",
                "publish",
                str(example_spec_file),
                "s3://bucket/specs/webapp01.json",
                "--endpoint-url",
                endpoint,
            ]
        )
    assert result.exit_code == 3, result.output
    assert "did not answer as AWS" in json.loads(result.stdout)["error"]["message"]


def test_s3_still_follows_a_bucket_in_another_region() -> None:
    """The deadline's retry handler leaves botocore's S3 region redirect working: a
    request signed for the wrong region is signed again for the bucket's."""
    regions: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            authorization = self.headers.get("Authorization", "")
            regions.append(authorization.split("/")[2] if authorization.count("/") > 2 else "")
            if len(regions) == 1:
                body = (
                    b"<Error><Code>AuthorizationHeaderMalformed</Code>"
                    b"<Region>eu-west-1</Region></Error>"
                )
                self.send_response(400)
                self.send_header("x-amz-bucket-region", "eu-west-1")
            else:
                body = b"{}"
                self.send_response(200)
            self.send_header("x-amz-request-id", "r-1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        fetched = S3Source(config(endpoint)).fetch(parse_location(S3_ARN))
    finally:
        server.shutdown()
        server.server_close()
    assert fetched.data == b"{}"
    assert regions == ["us-east-1", "eu-west-1"]
