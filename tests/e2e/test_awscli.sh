#!/usr/bin/env bash
# The AWS CLI against a Stepwise endpoint: create, start, describe, history, list, delete.
# Usage: test_awscli.sh ENDPOINT   (the aws command must be on PATH; run by test_awscli.py)
set -euo pipefail
endpoint="$1"
export AWS_ACCESS_KEY_ID=AKIAE2ETESTKEY000000 AWS_SECRET_ACCESS_KEY=e2e-test-secret
export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER="" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
sfn() { aws stepfunctions --endpoint-url "$endpoint" --output json "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

name="cli-$(date +%s)-$$-$RANDOM"
definition='{"StartAt":"Hello","States":{"Hello":{"Type":"Pass","Parameters":{"greeting.$":"States.Format('"'"'Hello, {}!'"'"', $.name)"},"End":true}}}'

sm_arn=$(sfn create-state-machine --name "$name" --definition "$definition" \
  --role-arn arn:aws:iam::123456789012:role/stepwise-e2e --query stateMachineArn --output text)
[ "$sm_arn" = "arn:aws:states:us-east-1:123456789012:stateMachine:$name" ] || fail "state machine ARN: $sm_arn"

exec_arn=$(sfn start-execution --state-machine-arn "$sm_arn" --name run-1 \
  --input '{"name":"World"}' --query executionArn --output text)
[ "$exec_arn" = "arn:aws:states:us-east-1:123456789012:execution:$name:run-1" ] || fail "execution ARN: $exec_arn"

status=RUNNING
for _ in $(seq 1 200); do
  status=$(sfn describe-execution --execution-arn "$exec_arn" --query status --output text)
  [ "$status" = RUNNING ] || break
  sleep 0.1
done
[ "$status" = SUCCEEDED ] || fail "status: $status"

sfn describe-execution --execution-arn "$exec_arn" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert json.loads(d["output"]) == {"greeting": "Hello, World!"}, d
assert d["name"] == "run-1" and d["status"] == "SUCCEEDED", d
# aws-cli 1.x prints timestamps as received: epoch seconds on this protocol.
assert isinstance(d["startDate"], (int, float)) and d["startDate"] <= d["stopDate"], d
' || fail "describe-execution output"

sfn get-execution-history --execution-arn "$exec_arn" | python3 -c '
import json, sys
events = json.load(sys.stdin)["events"]
kinds = [e["type"] for e in events]
assert kinds == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"], kinds
assert [e["id"] for e in events] == [1, 2, 3, 4]
assert [e["previousEventId"] for e in events] == [0, 0, 2, 3]
' || fail "get-execution-history"

count=$(sfn list-executions --state-machine-arn "$sm_arn" --status-filter SUCCEEDED \
  --query 'length(executions)' --output text)
[ "$count" = 1 ] || fail "list-executions count: $count"

# The CLI's own pagination: 1 item per page, all pages followed.
listed=$(sfn list-state-machines --page-size 1 --query "stateMachines[?name=='$name'].name" --output text)
[ "$listed" = "$name" ] || fail "list-state-machines: $listed"

# An AWS error reaches the CLI as AWS's code, with exit status 254 (aws-cli 1.x: 255).
set +e
err=$(sfn describe-execution --execution-arn "arn:aws:states:us-east-1:123456789012:execution:$name:nope" 2>&1 >/dev/null)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "describe of a missing execution succeeded"
case "$err" in *ExecutionDoesNotExist*) ;; *) fail "error text: $err" ;; esac

sfn delete-state-machine --state-machine-arn "$sm_arn"
remaining=$(sfn list-state-machines --query "length(stateMachines[?name=='$name'])" --output text)
[ "$remaining" = 0 ] || fail "machine still listed after delete"
echo "awscli e2e: ok"
