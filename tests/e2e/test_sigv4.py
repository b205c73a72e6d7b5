"""`stepwise serve --sigv4-credentials FILE`: requests signed by a listed key pass, others
get AWS's authentication errors and change nothing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import helpers
from conftest import serve_own

KEY_ID = "AKIASIGV4TESTKEY0001"
SECRET = "sigv4-e2e-secret/with+chars"


@pytest.fixture(scope="module")
def signed_endpoint(tmp_path_factory):
    creds = tmp_path_factory.mktemp("sigv4") / "credentials"
    creds.write_text(
        f"[default]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
        "[other]\naws_access_key_id = AKIAOTHERKEY00000000\naws_secret_access_key = other\n"
    )
    # Always a server of its own (STEPWISE_ENDPOINT's would not check signatures).
    yield from serve_own("0", ("--sigv4-credentials", str(creds)))


def _client(endpoint: str, key_id: str, secret: str, region: str = helpers.REGION):
    return boto3.client(
        "stepfunctions",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(inject_host_prefix=False, retries={"total_max_attempts": 1}),
    )


def _code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_signed_requests_pass_and_both_profiles_count(signed_endpoint):
    sfn = _client(signed_endpoint, KEY_ID, SECRET)
    name = helpers.unique("signed")
    arn = sfn.create_state_machine(
        name=name,
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=helpers.ROLE_ARN,
    )["stateMachineArn"]
    other = _client(signed_endpoint, "AKIAOTHERKEY00000000", "other")
    assert other.describe_state_machine(stateMachineArn=arn)["name"] == name


def test_a_signed_request_works_in_its_own_region(signed_endpoint):
    # One server answers for every region: a request signed for eu-west-1 is checked
    # with that scope and creates what it creates there.
    eu = _client(signed_endpoint, KEY_ID, SECRET, region="eu-west-1")
    name = helpers.unique("signed-eu")
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    arn = eu.create_state_machine(name=name, definition=definition, roleArn=helpers.ROLE_ARN)["stateMachineArn"]
    assert arn == f"arn:aws:states:eu-west-1:{helpers.ACCOUNT}:stateMachine:{name}"
    us = _client(signed_endpoint, KEY_ID, SECRET)
    assert arn not in [m["stateMachineArn"] for m in us.list_state_machines()["stateMachines"]]


def test_wrong_keys_are_refused_and_write_nothing(signed_endpoint):
    name = helpers.unique("unsigned")
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    cases = [
        (_client(signed_endpoint, KEY_ID, "not-the-secret"), "InvalidSignatureException"),
        (_client(signed_endpoint, "AKIANOTCONFIGURED000", SECRET), "UnrecognizedClientException"),
    ]
    for client, code in cases:
        with pytest.raises(ClientError) as e:
            client.create_state_machine(name=name, definition=definition, roleArn=helpers.ROLE_ARN)
        assert _code(e) == code
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    names = [m["name"] for m in _client(signed_endpoint, KEY_ID, SECRET).list_state_machines()["stateMachines"]]
    assert name not in names


def test_unsigned_requests_get_missing_token_and_health_stays_open(signed_endpoint):
    req = urllib.request.Request(
        signed_endpoint + "/",
        data=b"{}",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
        },
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    body = json.loads(e.value.read())
    assert e.value.code == 400
    assert body["__type"].endswith("#MissingAuthenticationTokenException")
    with urllib.request.urlopen(signed_endpoint + "/health", timeout=10) as r:
        assert r.status == 200


def _signed_without(endpoint: str, target: str, body: bytes, left_out: set[str]):
    """A request signed by botocore's SigV4 signer with `left_out` headers not signed
    (the attacker then sets them freely)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target}
    req = AWSRequest(method="POST", url=endpoint + "/", data=body, headers=headers)
    signer = SigV4Auth(Credentials(KEY_ID, SECRET), "states", helpers.REGION)
    original = signer.headers_to_sign

    def headers_to_sign(request):
        signed = original(request)
        for name in left_out:
            if name in signed:
                del signed[name]
        return signed

    signer.headers_to_sign = headers_to_sign
    signer.add_auth(req)
    return req


def test_a_signature_must_cover_host_and_every_amz_header(signed_endpoint):
    sfn = _client(signed_endpoint, KEY_ID, SECRET)
    name = helpers.unique("replayed")
    arn = sfn.create_state_machine(
        name=name,
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=helpers.ROLE_ARN,
    )["stateMachineArn"]
    body = json.dumps({"stateMachineArn": arn}).encode()
    for left_out, named in [({"host", "x-amz-target"}, "'Host' or ':authority'"), ({"x-amz-target"}, "'X-Amz-Target'")]:
        # Signed as DescribeStateMachine, replayed as DeleteStateMachine.
        signed = _signed_without(signed_endpoint, "AWSStepFunctions.DescribeStateMachine", body, left_out)
        headers = dict(signed.headers.items())
        headers["X-Amz-Target"] = "AWSStepFunctions.DeleteStateMachine"
        req = urllib.request.Request(signed_endpoint + "/", data=body, headers=headers, method="POST")
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        answer = json.loads(e.value.read())
        assert e.value.code == 400
        assert answer["__type"].endswith("#IncompleteSignatureException"), answer
        assert named in answer["message"], answer
    # The machine is still there.
    assert sfn.describe_state_machine(stateMachineArn=arn)["name"] == name
