"""The request's region and account, as AWS takes them: from the SigV4 credential scope
(`AKID/DATE/REGION/states/aws4_request`), the access key id as the account when it is 12
digits; `--region`/`--account` (us-east-1, 123456789012 here) for what a request leaves out.
Each region and account is its own world: List* shows only what was created there, while
anything named by ARN is found wherever its ARN says."""

from __future__ import annotations

import json
import urllib.request

import boto3
from botocore.config import Config

import helpers

EU_ACCOUNT = "111122223333"
PASS_WITH_CONTEXT = json.dumps({
    "StartAt": "P",
    "States": {"P": {"Type": "Pass", "Parameters": {
        "machine.$": "$$.StateMachine.Id", "execution.$": "$$.Execution.Id"}, "End": True}},
})


def _client(endpoint: str, region: str, key_id: str):
    return boto3.client(
        "stepfunctions",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=key_id,
        aws_secret_access_key="test",
        config=Config(inject_host_prefix=False, retries={"total_max_attempts": 1}),
    )


def test_arns_follow_the_clients_region_and_12_digit_key(endpoint, sfn):
    eu = _client(endpoint, "eu-west-1", EU_ACCOUNT)
    name = helpers.unique("eu")
    arn = eu.create_state_machine(
        name=name, definition=PASS_WITH_CONTEXT, roleArn=f"arn:aws:iam::{EU_ACCOUNT}:role/r"
    )["stateMachineArn"]
    assert arn == f"arn:aws:states:eu-west-1:{EU_ACCOUNT}:stateMachine:{name}"
    # Listed in its own region and account only.
    assert arn in [m["stateMachineArn"] for m in eu.list_state_machines()["stateMachines"]]
    assert arn not in [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
    other_account = _client(endpoint, "eu-west-1", "444455556666")
    assert arn not in [m["stateMachineArn"] for m in other_account.list_state_machines()["stateMachines"]]
    # Its executions live where it does, whoever starts them; found by ARN from anywhere.
    exec_arn = helpers.start(sfn, arn, name="run-1")
    assert exec_arn == f"arn:aws:states:eu-west-1:{EU_ACCOUNT}:execution:{name}:run-1"
    desc = helpers.wait_for_execution(eu, exec_arn)
    assert desc["status"] == "SUCCEEDED", desc
    assert json.loads(desc["output"]) == {"machine": arn, "execution": exec_arn}
    assert [e["executionArn"] for e in eu.list_executions(stateMachineArn=arn)["executions"]] == [exec_arn]
    assert eu.describe_state_machine(stateMachineArn=arn)["name"] == name
    # The console lists every region and account together, and says which is which.
    home = sfn.create_state_machine(name=helpers.unique("home"), definition=PASS_WITH_CONTEXT,
                                    roleArn=helpers.ROLE_ARN)["stateMachineArn"]
    with urllib.request.urlopen(f"{endpoint}/console/") as page:
        html = page.read().decode()
    assert "Region · account" in html and f"eu-west-1 · {EU_ACCOUNT}" in html
    assert f"us-east-1 · {helpers.ACCOUNT}" in html
    sfn.delete_state_machine(stateMachineArn=home)
    eu.delete_state_machine(stateMachineArn=arn)


def test_an_akia_key_keeps_the_default_account_and_activities_are_scoped(endpoint, sfn):
    eu = _client(endpoint, "eu-central-1", "AKIAEXAMPLEKEY000000")
    name = helpers.unique("act")
    arn = eu.create_activity(name=name)["activityArn"]
    assert arn == f"arn:aws:states:eu-central-1:{helpers.ACCOUNT}:activity:{name}"
    assert arn in [a["activityArn"] for a in eu.list_activities()["activities"]]
    assert arn not in [a["activityArn"] for a in sfn.list_activities()["activities"]]
    assert sfn.describe_activity(activityArn=arn)["name"] == name
    eu.delete_activity(activityArn=arn)


def test_test_state_names_the_request_scope(endpoint):
    eu = _client(endpoint, "eu-west-1", EU_ACCOUNT)
    out = eu.test_state(
        definition=json.dumps({"Type": "Pass", "Parameters": {"m.$": "$$.StateMachine.Id"}, "End": True}),
        roleArn=f"arn:aws:iam::{EU_ACCOUNT}:role/r",
    )
    assert json.loads(out["output"])["m"].startswith(f"arn:aws:states:eu-west-1:{EU_ACCOUNT}:stateMachine:")


def test_unsigned_requests_use_the_servers_region_and_account(endpoint):
    name = helpers.unique("unsigned")
    status, body = helpers.raw_call(
        endpoint,
        "AWSStepFunctions.CreateStateMachine",
        json.dumps({"name": name, "definition": PASS_WITH_CONTEXT, "roleArn": helpers.ROLE_ARN}),
    )
    assert status == 200, body
    assert body["stateMachineArn"] == helpers.SM_ARN_PREFIX + name


def test_a_regions_partition_names_its_arns(endpoint, sfn):
    """China and GovCloud regions live in their own partitions: `arn:aws-cn:…`,
    `arn:aws-us-gov:…`, in every ARN made there (machines, executions, Map Runs and their
    children, activities, the Context object)."""
    cn = _client(endpoint, "cn-north-1", EU_ACCOUNT)
    name = helpers.unique("cn")
    definition = json.dumps({"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {
                "execution.$": "$$.Execution.Id"}, "End": True}}},
        "ResultSelector": {"children.$": "$[*].execution", "execution.$": "$$.Execution.Id"},
        "End": True}}})
    arn = cn.create_state_machine(
        name=name, definition=definition, roleArn=f"arn:aws-cn:iam::{EU_ACCOUNT}:role/r"
    )["stateMachineArn"]
    assert arn == f"arn:aws-cn:states:cn-north-1:{EU_ACCOUNT}:stateMachine:{name}"
    exec_arn = cn.start_execution(stateMachineArn=arn, name="run-1", input="[1, 2]")["executionArn"]
    assert exec_arn == f"arn:aws-cn:states:cn-north-1:{EU_ACCOUNT}:execution:{name}:run-1"
    desc = helpers.wait_for_execution(cn, exec_arn)
    assert desc["status"] == "SUCCEEDED", desc
    out = json.loads(desc["output"])
    assert out["execution"] == exec_arn
    prefix = f"arn:aws-cn:states:cn-north-1:{EU_ACCOUNT}:execution:{name}/"
    assert len(out["children"]) == 2 and all(c.startswith(prefix) for c in out["children"]), out
    runs = cn.list_map_runs(executionArn=exec_arn)["mapRuns"]
    assert [r["mapRunArn"].split(":mapRun:")[0] for r in runs] == [f"arn:aws-cn:states:cn-north-1:{EU_ACCOUNT}"]
    gov = _client(endpoint, "us-gov-west-1", EU_ACCOUNT)
    activity = gov.create_activity(name=helpers.unique("gov"))["activityArn"]
    assert activity.startswith(f"arn:aws-us-gov:states:us-gov-west-1:{EU_ACCOUNT}:activity:")
    gov.delete_activity(activityArn=activity)
    cn.delete_state_machine(stateMachineArn=arn)
