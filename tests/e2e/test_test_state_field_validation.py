"""TestState's mock.fieldValidationMode through boto3: a Task's mocked result checked
against the output shape of the API its resource calls. Every case recorded on AWS in
LocalStack's test_state/test_field_validation_mode{,_present,_none}.snapshot.json, with
the templates of templates/test_state/statemachines/ (all listed in the files'
.validation.json)."""

import json

import pytest

EVENTS = (
    {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
     "Parameters": {"Entries.$": "$.Entries"}, "End": True},
    {"Entries": [{"Detail": "detail", "DetailType": "detail_type", "Source": "source"}]},
)
SFN = (
    {"Type": "Task", "QueryLanguage": "JSONata",
     "Resource": "arn:aws:states:::states:startExecution",
     "Arguments": {"Input": "{% $states.input.targetInput %}",
                   "StateMachineArn": "{% $states.input.stateMachineArn %}",
                   "Name": "{% $states.input.name %}"},
     "Output": {"targetExecutionResult": "{% $states.result %}"}, "End": True},
    {"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:TargetStateMachine",
     "targetInput": None, "name": "TestStartTarget"},
)
LAMBDA = (
    {"Comment": "BASE_LAMBDA_SERVICE_TASK_STATE", "Type": "Task",
     "Resource": "arn:aws:states:::lambda:invoke",
     "Parameters": {"FunctionName.$": "$.FunctionName", "Payload.$": "$.Payload"}, "End": True},
    {"FunctionName": "function_name", "Payload": None},
)
DYNAMODB = (
    {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
     "Parameters": {"TableName.$": "$.TableName", "Item.$": "$.Item"}, "End": True},
    {"TableName": "table_name", "Item": {"data": {"S": "HelloWorld"}, "id": {"S": "id1"}}},
)
S3 = (
    {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
     "Parameters": {"Bucket.$": "$.Bucket", "Key.$": "$.Key"}, "End": True},
    {"Bucket": "bucket_name", "Key": "file_key"},
)
KMS = (
    {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:kms:encrypt",
     "Parameters": {"KeyId.$": "$.KeyId", "Plaintext.$": "$.Plaintext"}, "End": True},
    {"KeyId": "key_id", "Plaintext": "plain_text"},
)
GET_FUNCTION = (
    {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:lambda:getFunction",
     "Parameters": {"FunctionName.$": "$.FunctionName"}, "End": True},
    {"FunctionName": "function_name"},
)


def err(message):
    return ("error", f"Mock result schema validation error: {message}")


def out(output):
    return ("ok", output)


# Answered alike by STRICT and PRESENT: (case id, template, result, expected).
ALIKE = [
    ("field_not_part_of_api_spec", EVENTS, {"random": "json"}, out({"random": "json"})),
    ("empty_json", EVENTS, {}, out({})),
    ("wrong_type_top_level_field", EVENTS,
     {"Entries": "Entries value should have been a list of entry objects"},
     err("Field 'Entries' must be an array")),
    ("wrong_type_nested_field", EVENTS,
     {"Entries": [{"EventId": ["EventId value should have been a string not a list of strings"]}]},
     err("Field 'EventId' must be a string")),
    ("wrong_type_2nd_array_element", EVENTS,
     {"Entries": [{"EventId": "First eventId has correct type: string"},
                  {"EventId": ["Second eventId has incorrect type: array"]}]},
     err("Field 'EventId' must be a string")),
    ("wrong_integer_type_string", LAMBDA, {"StatusCode": "200"},
     err("Field 'StatusCode' must be a number")),
    ("wrong_float_type_string", DYNAMODB, {"ConsumedCapacity": {"CapacityUnits": "123.45"}},
     err("Field 'CapacityUnits' must be a number")),
    ("wrong_long_type_string", S3, {"ContentLength": "9000"},
     err("Field 'ContentLength' must be a number")),
    ("non_existent_enum_value", S3, {"StorageClass": "Papyrus"},
     err("Field 'StorageClass' is not an expected value")),
    ("wrong_blob_type_number", KMS, {"CiphertextBlob": 123},
     err("Field 'CiphertextBlob' must be a string")),
    ("wrong_blob_length_less_than_minimum", KMS, {"CiphertextBlob": ""},
     err("Field 'CiphertextBlob' is smaller than the minimum length")),
    ("integer_less_than_minimum_allowed", GET_FUNCTION, {"Configuration": {"MemorySize": 127}},
     err("Field 'MemorySize' is less than the minimum value")),
    ("integer_more_than_maximum_allowed", GET_FUNCTION, {"Configuration": {"MemorySize": 10241}},
     err("Field 'MemorySize' exceeds the maximum value")),
]

STRICT = ALIKE + [
    ("missing_required_fields", SFN, {}, err("Required field 'ExecutionArn' is missing")),
    ("field_name_not_in_sfn_case", SFN,
     {"executionArn": "stringValueExecutionArn", "startDate": "stringValueStartDate"},
     err("Required field 'ExecutionArn' is missing")),
    ("wrong_timestamp_type_bool", SFN,
     {"ExecutionArn": "stringValueExecutionArn", "StartDate": True},
     err("Field 'StartDate' must be a string")),
    ("wrong_timestamp_type_number", SFN,
     {"ExecutionArn": "stringValueExecutionArn", "StartDate": 1764103483},
     err("Field 'StartDate' must be a string")),
]

PRESENT = ALIKE + [
    ("missing_required_fields", SFN, {}, out({"targetExecutionResult": {}})),
    ("field_name_not_in_sfn_case", SFN,
     {"executionArn": "stringValueExecutionArn", "startDate": "stringValueStartDate"},
     out({"targetExecutionResult": {"executionArn": "stringValueExecutionArn",
                                    "startDate": "stringValueStartDate"}})),
    ("wrong_timestamp_type_bool", SFN, {"StartDate": True},
     err("Field 'StartDate' must be a string")),
    ("wrong_string_type_number", SFN, {"ExecutionArn": 1764103483},
     err("Field 'ExecutionArn' must be a string")),
]

NONE = [
    ("missing_required_fields", SFN, {}, out({"targetExecutionResult": {}})),
    ("wrong_timestamp_type_bool", SFN,
     {"ExecutionArn": "stringValueExecutionArn", "StartDate": True},
     out({"targetExecutionResult": {"ExecutionArn": "stringValueExecutionArn",
                                    "StartDate": True}})),
]


def check(sfn, mode, template, result, expected):
    state, exec_input = template
    mock = {"result": json.dumps(result)}
    if mode is not None:
        mock["fieldValidationMode"] = mode
    args = dict(definition=json.dumps(state), input=json.dumps(exec_input),
                inspectionLevel="INFO", mock=mock)
    kind, want = expected
    if kind == "error":
        with pytest.raises(sfn.exceptions.ValidationException) as e:
            sfn.test_state(**args)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert e.value.response["Error"]["Code"] == "ValidationException"
        assert e.value.response["Error"]["Message"] == want
    else:
        resp = sfn.test_state(**args)
        assert resp["status"] == "SUCCEEDED"
        assert json.loads(resp["output"]) == want


@pytest.mark.parametrize("case", STRICT, ids=[c[0] for c in STRICT])
def test_strict_mode_default(sfn, case):
    """Recorded without fieldValidationMode: STRICT is the default."""
    assert len(STRICT) == 17
    check(sfn, None, *case[1:])


@pytest.mark.parametrize("case", PRESENT, ids=[c[0] for c in PRESENT])
def test_present_mode(sfn, case):
    assert len(PRESENT) == 17
    check(sfn, "PRESENT", *case[1:])


@pytest.mark.parametrize("case", NONE, ids=[c[0] for c in NONE])
def test_none_mode(sfn, case):
    check(sfn, "NONE", *case[1:])


def test_strict_given_explicitly(sfn):
    check(sfn, "STRICT", SFN, {}, err("Required field 'ExecutionArn' is missing"))
