"""TagResource, UntagResource, ListTagsForResource on state machines and activities. Expected
values follow AWS recordings (LocalStack's test_sfn_api_tagging snapshot)."""

from helpers import SM_ARN_PREFIX, create_sm, error_of, pass_definition, unique


def by_key(tags):
    return sorted(tags, key=lambda t: t["key"])


def test_tag_untag_state_machine(sfn):
    arn = create_sm(sfn, pass_definition(), tags=[{"key": "created", "value": "yes"}])["stateMachineArn"]
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "created", "value": "yes"}]

    resp = sfn.tag_resource(resourceArn=arn, tags=[{"key": "key1", "value": "value1"}, {"key": "key2", "value": ""}])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert by_key(sfn.list_tags_for_resource(resourceArn=arn)["tags"]) == [
        {"key": "created", "value": "yes"}, {"key": "key1", "value": "value1"}, {"key": "key2", "value": ""},
    ]
    # Tagging an existing key replaces its value.
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "key1", "value": "changed"}])
    sfn.untag_resource(resourceArn=arn, tagKeys=["key2", "created", "never-set"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "key1", "value": "changed"}]
    sfn.untag_resource(resourceArn=arn, tagKeys=["key1"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == []


def test_tag_untag_activity(sfn):
    arn = sfn.create_activity(name=unique("act"), tags=[{"key": "a", "value": "1"}])["activityArn"]
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "a", "value": "1"}]
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}])
    assert by_key(sfn.list_tags_for_resource(resourceArn=arn)["tags"]) == [
        {"key": "a", "value": "1"}, {"key": "b", "value": "2"},
    ]
    sfn.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]


def test_tag_version_and_missing_resource(sfn):
    arn = create_sm(sfn, pass_definition(), publish=True)["stateMachineArn"]
    err = error_of(sfn.tag_resource, resourceArn=f"{arn}:1", tags=[{"key": "k", "value": "v"}])
    assert err["Code"] == "ResourceNotFound"
    assert err["Message"] == f"Resource not found: '{arn}:1'"

    missing = SM_ARN_PREFIX + unique("missing")
    err = error_of(sfn.list_tags_for_resource, resourceArn=missing)
    assert err["Code"] == "ResourceNotFound"
    err = error_of(sfn.tag_resource, resourceArn=missing, tags=[{"key": "k", "value": "v"}])
    assert err["Code"] == "ResourceNotFound"
