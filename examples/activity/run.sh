#!/usr/bin/env bash
# An activity worker, in one command:
#
#   bash examples/activity/run.sh
#
# Starts `stepwise serve`, creates the activity `count-words` and the state machine (its
# Task names the activity's ARN), starts the worker (worker.py, long-polling
# GetActivityTask), and runs two documents: one with words (SendTaskSuccess, the counts in
# the output) and one without (SendTaskFailure: the execution fails with EmptyDocument).
#
# Needs target/py-venv (`bash scripts/py-venv`: boto3, awscli) and a stepwise binary:
# $STEPWISE_BIN, else target/{release,debug}/stepwise, else `stepwise` on PATH. The
# logs go to $ACTIVITY_DATA, a new temporary folder unless set.
# Exit code 0 when the first document was counted and the second failed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
find_stepwise
use_venv

export ACTIVITY_DATA="${ACTIVITY_DATA:-$(mktemp -d "${TMPDIR:-/tmp}/stepwise-activity.XXXXXX")}"
serve "$ACTIVITY_DATA/stepwise" "$ACTIVITY_DATA/stepwise.log"
echo "Stepwise $endpoint (console: $endpoint/console/tasks)"

activity="$(sfn create-activity --name count-words --query activityArn --output text)"
python3 -c 'import sys; print(open(sys.argv[1]).read().replace("ACTIVITY_ARN", sys.argv[2]))' \
  "$here/activity.asl.json" "$activity" > "$ACTIVITY_DATA/activity.asl.json"
sm="$(sfn create-state-machine --name count-words --definition "file://$ACTIVITY_DATA/activity.asl.json" \
  --role-arn arn:aws:iam::123456789012:role/activity --query stateMachineArn --output text)"

AWS_ENDPOINT_URL="$endpoint" background python3 "$here/worker.py" "$activity" --count 2

counted="$(sfn start-execution --state-machine-arn "$sm" --name counted --input "file://$here/input.json" \
  --query executionArn --output text)"
wait_done "$counted"; counted_status="$status"
empty="$(sfn start-execution --state-machine-arn "$sm" --name empty --input "file://$here/input-empty.json" \
  --query executionArn --output text)"
wait_done "$empty"; empty_status="$status" empty_error="$error"

if [ "$counted_status" = SUCCEEDED ] && [ "$empty_status" = FAILED ] && [ "$empty_error" = EmptyDocument ]; then
  echo "OK: use-case.txt counted by the worker; empty.txt failed with EmptyDocument"
else
  echo "run.sh: unexpected outcome (see $ACTIVITY_DATA/stepwise.log)" >&2
  exit 1
fi
