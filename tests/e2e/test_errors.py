"""The wire protocol's errors, sent as raw HTTP (boto3 would refuse to send most of these).
AWS JSON 1.0: HTTP 400 with {"__type": "...#Code", "message": ...}. The validation wording
("1 validation error detected: ...") is AWS's, as recorded in LocalStack's snapshots; the
codes for an unknown action and an unreadable body are the AWS JSON protocol's (a guess at
the exact message, so only the code is checked)."""

import json

from helpers import ROLE_ARN, error_of, error_type, pass_definition, raw_call, unique

TARGET = "AWSStepFunctions."


def test_unknown_operation(endpoint):
    status, body = raw_call(endpoint, TARGET + "FlyToTheMoon", "{}")
    assert status == 400
    assert error_type(body) == "UnknownOperationException"


def test_missing_target_header(endpoint):
    status, body = raw_call(endpoint, None, "{}")
    assert status == 400
    assert error_type(body) == "UnknownOperationException"


def test_malformed_json_body(endpoint):
    status, body = raw_call(endpoint, TARGET + "ListStateMachines", '{"maxResults": ')
    assert status == 400
    assert error_type(body) == "SerializationException"


def test_wrong_field_type(endpoint):
    status, body = raw_call(endpoint, TARGET + "ListStateMachines", json.dumps({"maxResults": "ten"}))
    assert status == 400
    assert error_type(body) == "SerializationException"
    status, body = raw_call(endpoint, TARGET + "CreateStateMachine", json.dumps(
        {"name": ["not", "a", "string"], "definition": json.dumps(pass_definition()), "roleArn": ROLE_ARN}))
    assert status == 400
    assert error_type(body) == "SerializationException"


def test_missing_required_field(endpoint):
    status, body = raw_call(endpoint, TARGET + "CreateStateMachine", json.dumps(
        {"definition": json.dumps(pass_definition()), "roleArn": ROLE_ARN}))
    assert status == 400
    assert error_type(body) == "ValidationException"
    assert body["message"] == (
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_two_missing_fields(endpoint):
    status, body = raw_call(endpoint, TARGET + "CreateStateMachine", json.dumps({"roleArn": ROLE_ARN}))
    assert status == 400
    assert error_type(body) == "ValidationException"
    assert body["message"].startswith("2 validation errors detected: ")
    assert "Value null at 'name' failed to satisfy constraint: Member must not be null" in body["message"]
    assert "Value null at 'definition' failed to satisfy constraint: Member must not be null" in body["message"]


def test_name_too_long(sfn):
    name = "a" * 81
    err = error_of(sfn.create_state_machine, name=name, definition=json.dumps(pass_definition()), roleArn=ROLE_ARN)
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
        "Member must have length less than or equal to 80"
    )


def test_next_token_too_long(sfn):
    token = "x" * 1025
    err = error_of(sfn.list_state_machines, nextToken=token)
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        f"1 validation error detected: Value '{token}' at 'nextToken' failed to satisfy constraint: "
        "Member must have length less than or equal to 1024"
    )


def test_error_body_shape(endpoint):
    arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{unique('missing')}"
    status, body = raw_call(endpoint, TARGET + "DescribeStateMachine", json.dumps({"stateMachineArn": arn}))
    assert status == 400
    assert error_type(body) == "StateMachineDoesNotExist"
    assert body["message"] == f"State Machine Does Not Exist: '{arn}'"


def test_success_body_is_json(endpoint):
    status, body = raw_call(endpoint, TARGET + "ListStateMachines", "{}")
    assert status == 200
    assert isinstance(body["stateMachines"], list)


def test_oversized_body_gets_a_json_error(endpoint):
    # 9 MiB: beyond the 4 MiB limit (and beyond any transport limit): AWS's JSON shape, not
    # a plain-text 413, and the server goes on serving.
    big = '{"name": "' + "x" * (9 * 1024 * 1024) + '"}'
    status, body = raw_call(endpoint, TARGET + "ListStateMachines", big)
    assert status == 413
    assert error_type(body) == "RequestEntityTooLargeException"
    assert "4194304" in body["message"]
    status, _ = raw_call(endpoint, TARGET + "ListStateMachines", "{}")
    assert status == 200


def test_next_tokens_continue_only_their_own_listing(sfn):
    from helpers import run

    a, _ = run(sfn, pass_definition())
    b, _ = run(sfn, pass_definition())
    page = sfn.get_execution_history(executionArn=a, maxResults=1)
    token = page["nextToken"]
    assert not token.startswith("event:")
    rest = sfn.get_execution_history(executionArn=a, maxResults=100, nextToken=token)
    assert len(page["events"]) + len(rest["events"]) == len(
        sfn.get_execution_history(executionArn=a)["events"])
    # Another execution's history, a made-up or altered token: InvalidToken.
    for arn, t in [(b, token), (a, "event:1"), (a, "9" + token[1:])]:
        err = error_of(sfn.get_execution_history, executionArn=arn, nextToken=t)
        assert err["Code"] == "InvalidToken", err
