"""TestState on Pass, Choice and Map states, inspection levels INFO and DEBUG. Expected values
follow AWS recordings (LocalStack's test_state/test_test_state_scenarios snapshot)."""

import json

from helpers import ROLE_ARN

HELLO = json.dumps({"Value": "HelloWorld"})
NESTED = json.dumps({
    "initialData": {"fieldFromInput": "value from input", "otherField": "other"},
    "unrelatedData": {"someOtherField": 1234},
})
IO_PASS = {
    "Type": "Pass",
    "InputPath": "$.initialData",
    "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
    "ResultPath": "$.modifiedData",
    "End": True,
}
CHOICE = {
    "Type": "Choice",
    "Choices": [
        {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
        {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
        {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                 {"Variable": "$.value", "NumericLessThan": 30}], "Next": "ValueInTwenties"},
    ],
    "Default": "DefaultState",
}


def decoded(inspection):
    return {k: json.loads(v) for k, v in inspection.items()}


def test_pass_info(sfn):
    resp = sfn.test_state(definition=json.dumps({"Type": "Pass", "End": True}), roleArn=ROLE_ARN,
                          input=HELLO, inspectionLevel="INFO")
    assert resp["status"] == "SUCCEEDED"
    assert json.loads(resp["output"]) == {"Value": "HelloWorld"}
    assert "inspectionData" not in resp
    assert "nextState" not in resp


def test_pass_debug(sfn):
    resp = sfn.test_state(definition=json.dumps(IO_PASS), roleArn=ROLE_ARN, input=NESTED, inspectionLevel="DEBUG")
    assert resp["status"] == "SUCCEEDED"
    expected_output = {
        "initialData": {"fieldFromInput": "value from input", "otherField": "other"},
        "unrelatedData": {"someOtherField": 1234},
        "modifiedData": {"staticValue": "some value", "inputValue": "value from input"},
    }
    assert json.loads(resp["output"]) == expected_output
    assert decoded(resp["inspectionData"]) == {
        "input": json.loads(NESTED),
        "afterInputPath": {"fieldFromInput": "value from input", "otherField": "other"},
        "afterParameters": {"staticValue": "some value", "inputValue": "value from input"},
        "afterResultSelector": {"staticValue": "some value", "inputValue": "value from input"},
        "afterResultPath": expected_output,
    }


def test_pass_result_debug(sfn):
    definition = {"Type": "Pass", "Result": {"resultKey": "result value"}, "End": True}
    resp = sfn.test_state(definition=json.dumps(definition), roleArn=ROLE_ARN, input=HELLO, inspectionLevel="DEBUG")
    assert json.loads(resp["output"]) == {"resultKey": "result value"}
    assert decoded(resp["inspectionData"]) == {
        "input": {"Value": "HelloWorld"},
        "result": {"resultKey": "result value"},
        "afterResultSelector": {"resultKey": "result value"},
        "afterResultPath": {"resultKey": "result value"},
    }


def test_choice_info_and_debug(sfn):
    inp = json.dumps({"type": "Private", "value": 22})
    info = sfn.test_state(definition=json.dumps(CHOICE), roleArn=ROLE_ARN, input=inp, inspectionLevel="INFO")
    assert info["status"] == "SUCCEEDED"
    assert info["nextState"] == "ValueInTwenties"
    assert json.loads(info["output"]) == {"type": "Private", "value": 22}
    assert "inspectionData" not in info

    debug = sfn.test_state(definition=json.dumps(CHOICE), roleArn=ROLE_ARN, input=inp, inspectionLevel="DEBUG")
    assert debug["nextState"] == "ValueInTwenties"
    assert decoded(debug["inspectionData"]) == {
        "input": {"type": "Private", "value": 22},
        "afterInputPath": {"type": "Private", "value": 22},
    }

    default = sfn.test_state(definition=json.dumps(CHOICE), roleArn=ROLE_ARN,
                             input=json.dumps({"type": "Private", "value": 5}))
    assert default["nextState"] == "DefaultState"


def test_fail_state(sfn):
    definition = {"Type": "Fail", "Error": "SomeFailure", "Cause": "This state machines raises a 'SomeFailure' failure."}
    resp = sfn.test_state(definition=json.dumps(definition), roleArn=ROLE_ARN, input=HELLO)
    assert resp["status"] == "FAILED"
    assert resp["error"] == "SomeFailure"
    assert resp["cause"] == "This state machines raises a 'SomeFailure' failure."
    assert "output" not in resp


def test_map_with_a_mocked_processor(sfn):
    """A Map state's mock stands for its whole item processor; mapIterationFailureCount
    counts against ToleratedFailureCount (test_state_configuration recordings)."""
    definition = json.dumps({
        "Type": "Map", "ItemsPath": "$.Values", "ToleratedFailureCount": 1,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "End": True,
    })
    args = dict(definition=definition, roleArn=ROLE_ARN,
                input=json.dumps({"Values": ["first", "second", "third"]}),
                inspectionLevel="DEBUG", mock={"result": json.dumps([1, 1, 1])})
    ok = sfn.test_state(**args, stateConfiguration={"mapIterationFailureCount": 1})
    assert ok["status"] == "SUCCEEDED"
    assert ok["output"] == "[1, 1, 1]"
    insp = ok["inspectionData"]
    assert insp["afterItemsPath"] == '["first", "second", "third"]'
    assert (insp["maxConcurrency"], insp["toleratedFailureCount"]) == (0, 1)
    over = sfn.test_state(**args, stateConfiguration={"mapIterationFailureCount": 2})
    assert over["status"] == "FAILED"
    assert over["error"] == "States.ExceedToleratedFailureThreshold"
    assert over["cause"] == "The specified tolerated failure threshold was exceeded"
