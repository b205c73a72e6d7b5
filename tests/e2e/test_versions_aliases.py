"""Versions (Publish, List, Delete) and aliases (Create, Describe, Update, Delete, List, routing),
and executions started through a version ARN and an alias ARN. Expected values follow AWS
recordings (LocalStack's test_sfn_api_versioning / test_sfn_api_aliasing snapshots)."""

import datetime
import json

from helpers import create_sm, error_of, pass_definition, start, unique, wait_for_execution


def machine_with_two_versions(sfn):
    arn = create_sm(sfn, pass_definition({"v": 1}), publish=True)["stateMachineArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(pass_definition({"v": 2})))
    v2 = sfn.publish_state_machine_version(stateMachineArn=arn, description="second")
    return arn, f"{arn}:1", v2["stateMachineVersionArn"]


def test_create_with_publish(sfn):
    created = create_sm(sfn, pass_definition(), publish=True, versionDescription="HelloWorld!")
    arn = created["stateMachineArn"]
    assert created["stateMachineVersionArn"] == f"{arn}:1"
    version = sfn.describe_state_machine(stateMachineArn=f"{arn}:1")
    assert version["stateMachineArn"] == f"{arn}:1"
    assert version["description"] == "HelloWorld!"
    assert version["status"] == "ACTIVE"
    # The machine itself carries no description.
    assert "description" not in sfn.describe_state_machine(stateMachineArn=arn)
    # test_empty_revision_with_publish_and_publish_on_creation: the first revision has no id,
    # not on the version, nor from an update that changes nothing.
    assert "revisionId" not in version
    same = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(pass_definition()),
                                    publish=True)
    assert same["stateMachineVersionArn"] == f"{arn}:1"
    assert "revisionId" not in same
    changed = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(pass_definition(2)),
                                       publish=True)
    assert changed["stateMachineVersionArn"] == f"{arn}:2" and changed["revisionId"]
    v2 = sfn.describe_state_machine(stateMachineArn=f"{arn}:2")
    assert v2["revisionId"] == changed["revisionId"]


def test_publish_list_describe_versions(sfn):
    arn = create_sm(sfn, pass_definition({"v": 0}))["stateMachineArn"]
    assert sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"] == []

    r1 = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(pass_definition({"v": 1})))
    p1 = sfn.publish_state_machine_version(stateMachineArn=arn)
    assert p1["stateMachineVersionArn"] == f"{arn}:1"
    assert isinstance(p1["creationDate"], datetime.datetime)
    # Publishing again with no change is idempotent.
    assert sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"] == f"{arn}:1"

    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(pass_definition({"v": 2})))
    p2 = sfn.publish_state_machine_version(stateMachineArn=arn, description="PublishedV2Description")
    assert p2["stateMachineVersionArn"] == f"{arn}:2"

    listed = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    # Newest first.
    assert [v["stateMachineVersionArn"] for v in listed] == [f"{arn}:2", f"{arn}:1"]
    assert all(isinstance(v["creationDate"], datetime.datetime) for v in listed)

    d1 = sfn.describe_state_machine(stateMachineArn=f"{arn}:1")
    assert d1["revisionId"] == r1["revisionId"]
    assert json.loads(d1["definition"])["States"]["State_1"]["Result"] == {"v": 1}
    assert "description" not in d1
    d2 = sfn.describe_state_machine(stateMachineArn=f"{arn}:2")
    assert d2["description"] == "PublishedV2Description"


def test_list_versions_paging(sfn):
    arn = create_sm(sfn, pass_definition({"v": 0}))["stateMachineArn"]
    for i in range(1, 4):
        sfn.update_state_machine(
            stateMachineArn=arn, definition=json.dumps(pass_definition({"v": i})), publish=True
        )
    page = sfn.list_state_machine_versions(stateMachineArn=arn, maxResults=2)
    assert [v["stateMachineVersionArn"] for v in page["stateMachineVersions"]] == [f"{arn}:3", f"{arn}:2"]
    rest = sfn.list_state_machine_versions(stateMachineArn=arn, maxResults=2, nextToken=page["nextToken"])
    assert [v["stateMachineVersionArn"] for v in rest["stateMachineVersions"]] == [f"{arn}:1"]
    assert "nextToken" not in rest


def test_publish_conflict_on_stale_revision(sfn):
    arn = create_sm(sfn, pass_definition({"v": 0}))["stateMachineArn"]
    r1 = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(pass_definition({"v": 1})))
    r2 = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(pass_definition({"v": 2})))
    err = error_of(sfn.publish_state_machine_version, stateMachineArn=arn, revisionId=r1["revisionId"])
    assert err["Code"] == "ConflictException"
    assert err["Message"] == (
        f"Failed to publish the State Machine version for revision {r1['revisionId']}. "
        f"The current State Machine revision is {r2['revisionId']}."
    )


def test_publish_errors(sfn):
    missing = f"arn:aws:states:us-east-1:123456789012:stateMachine:{unique('missing')}"
    err = error_of(sfn.publish_state_machine_version, stateMachineArn=missing)
    assert err["Code"] == "StateMachineDoesNotExist"
    assert err["Message"] == f"State Machine Does Not Exist: '{missing}'"
    err = error_of(sfn.publish_state_machine_version, stateMachineArn="invalid_arn")
    assert err["Code"] == "InvalidArn"
    assert err["Message"] == "Invalid Arn: 'Invalid ARN prefix: invalid_arn'"


def test_delete_version(sfn):
    arn = create_sm(sfn, pass_definition(), publish=True)["stateMachineArn"]
    resp = sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:1")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"] == []
    # Deleting it again succeeds (AWS recording).
    sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:1")
    # Version numbers are not reused after a deletion.
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(pass_definition({"x": 1})))
    assert sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"] == f"{arn}:2"


def test_start_execution_on_version(sfn):
    arn, v1, v2 = machine_with_two_versions(sfn)
    exec_arn = start(sfn, v1)
    desc = wait_for_execution(sfn, exec_arn)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"]) == {"v": 1}
    assert desc["stateMachineArn"] == arn
    assert desc["stateMachineVersionArn"] == v1
    assert "stateMachineAliasArn" not in desc
    # The execution ARN names the machine, not the version.
    assert exec_arn.startswith(arn.replace(":stateMachine:", ":execution:") + ":")
    listed = sfn.list_executions(stateMachineArn=v1)["executions"]
    assert [e["executionArn"] for e in listed] == [exec_arn]
    assert listed[0]["stateMachineVersionArn"] == v1
    assert listed[0]["redriveCount"] == 0
    # test_describe_state_machine_for_execution_of_version: the machine's own ARN.
    for_exec = sfn.describe_state_machine_for_execution(executionArn=exec_arn)
    assert for_exec["stateMachineArn"] == arn
    assert json.loads(for_exec["definition"]) == pass_definition({"v": 1})


def test_alias_lifecycle_with_routing(sfn):
    arn, v1, v2 = machine_with_two_versions(sfn)
    assert sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"] == []

    created = sfn.create_state_machine_alias(
        name="live", description="create state machine alias description",
        routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}],
    )
    alias_arn = created["stateMachineAliasArn"]
    assert alias_arn == f"{arn}:live"
    assert isinstance(created["creationDate"], datetime.datetime)
    # Same name and configuration again: idempotent.
    again = sfn.create_state_machine_alias(
        name="live", description="create state machine alias description",
        routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}],
    )
    assert again["stateMachineAliasArn"] == alias_arn

    desc = sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
    assert desc["name"] == "live"
    assert desc["stateMachineAliasArn"] == alias_arn
    assert desc["description"] == "create state machine alias description"
    assert desc["routingConfiguration"] == [{"stateMachineVersionArn": v1, "weight": 100}]

    upd = sfn.update_state_machine_alias(
        stateMachineAliasArn=alias_arn,
        routingConfiguration=[
            {"stateMachineVersionArn": v1, "weight": 50},
            {"stateMachineVersionArn": v2, "weight": 50},
        ],
    )
    assert isinstance(upd["updateDate"], datetime.datetime)
    desc = sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
    assert desc["routingConfiguration"] == [
        {"stateMachineVersionArn": v1, "weight": 50},
        {"stateMachineVersionArn": v2, "weight": 50},
    ]
    assert desc["description"] == "create state machine alias description"
    assert isinstance(desc["updateDate"], datetime.datetime)

    listed = sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in listed] == [alias_arn]

    # Executions through the alias land on one of its versions.
    outputs = set()
    for _ in range(8):
        exec_arn = start(sfn, alias_arn)
        d = wait_for_execution(sfn, exec_arn)
        assert d["status"] == "SUCCEEDED"
        assert d["stateMachineAliasArn"] == alias_arn
        assert d["stateMachineVersionArn"] in (v1, v2)
        assert json.loads(d["output"]) == {"v": int(d["stateMachineVersionArn"][-1])}
        outputs.add(d["stateMachineVersionArn"])
    assert outputs  # at least one version ran (50/50 gives no guarantee of both in 8 runs)

    # A version an alias points at cannot be deleted.
    err = error_of(sfn.delete_state_machine_version, stateMachineVersionArn=v2)
    assert err["Code"] == "ConflictException"
    assert err["Message"] == (
        "Version to be deleted must not be referenced by an alias. "
        "Current list of aliases referencing this version: [live]"
    )

    sfn.delete_state_machine_alias(stateMachineAliasArn=alias_arn)
    assert sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"] == []
    # Deleting a missing alias succeeds; updating one fails (AWS recordings).
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias_arn)
    err = error_of(
        sfn.update_state_machine_alias, stateMachineAliasArn=alias_arn, description="x"
    )
    assert err["Code"] == "ResourceNotFound"
    assert err["Message"] == "Request references a resource that does not exist."


def test_alias_routing_validation(sfn):
    arn, v1, v2 = machine_with_two_versions(sfn)
    err = error_of(
        sfn.create_state_machine_alias, name="bad",
        routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 70},
                              {"stateMachineVersionArn": v2, "weight": 29}],
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == "Sum of routing configuration weights must equal 100. Received: [70, 29]"

    err = error_of(
        sfn.create_state_machine_alias, name="bad",
        routingConfiguration=[{"stateMachineVersionArn": arn, "weight": 100}],
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == f"Routing configuration must contain state machine version ARNs. Received: [{arn}]"

    err = error_of(
        sfn.create_state_machine_alias, name="bad",
        routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 50},
                              {"stateMachineVersionArn": v1, "weight": 50}],
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        f"Routing configuration must contain distinct state machine version ARNs. Received: [{v1}, {v1}]"
    )

    err = error_of(
        sfn.create_state_machine_alias, name="123",
        routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}],
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        "1 validation error detected: Value '123' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$"
    )


def test_alias_not_idempotent_with_other_routing(sfn):
    arn, v1, v2 = machine_with_two_versions(sfn)
    sfn.create_state_machine_alias(name="a1", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}])
    err = error_of(
        sfn.create_state_machine_alias, name="a1",
        routingConfiguration=[{"stateMachineVersionArn": v2, "weight": 100}],
    )
    assert err["Code"] == "ConflictException"
    assert err["Message"] == (
        "Failed to create alias because an alias with the same name and a different "
        "routing configuration already exists."
    )
