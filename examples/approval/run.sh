#!/usr/bin/env bash
# Human approval, in one command:
#
#   bash examples/approval/run.sh [--ask]
#
# Starts `stepwise serve --config examples/approval/stepwise.toml` and the approver
# (approver.py, watching the inbox), creates the state machine with the AWS CLI, and files
# two expenses: 120 EUR (approved: SendTaskSuccess with the task token) and 4,800 EUR
# (rejected: SendTaskFailure, caught, the execution fails with Rejected). With --ask you
# decide at the terminal instead of the approver's rule.
#
# Needs target/py-venv (`bash scripts/py-venv`: boto3, awscli) and a stepwise binary:
# $STEPWISE_BIN, else target/{release,debug}/stepwise, else `stepwise` on PATH. The inbox
# and the logs go to $APPROVAL_DATA, a new temporary folder unless set.
# Exit code 0 when the small expense was reimbursed and the large one rejected.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
find_stepwise
use_venv

export APPROVAL_DATA="${APPROVAL_DATA:-$(mktemp -d "${TMPDIR:-/tmp}/stepwise-approval.XXXXXX")}"
export APPROVAL_INBOX="$APPROVAL_DATA/inbox"
mkdir -p "$APPROVAL_INBOX"
serve "$APPROVAL_DATA/stepwise" "$APPROVAL_DATA/stepwise.log" --config "$here/stepwise.toml"
echo "Stepwise $endpoint (console: $endpoint/console/tasks), inbox $APPROVAL_INBOX"

# The approver answers through the same API (boto3 reads AWS_ENDPOINT_URL).
AWS_ENDPOINT_URL="$endpoint" background python3 "$here/approver.py" "$APPROVAL_INBOX" --count 2 "$@"

sm="$(sfn create-state-machine --name approval --definition "file://$here/approval.asl.json" \
  --role-arn arn:aws:iam::123456789012:role/approval --query stateMachineArn --output text)"
small="$(sfn start-execution --state-machine-arn "$sm" --name exp-17 --input "file://$here/input-small.json" \
  --query executionArn --output text)"
large="$(sfn start-execution --state-machine-arn "$sm" --name exp-18 --input "file://$here/input-large.json" \
  --query executionArn --output text)"

wait_done "$small"; small_status="$status"
wait_done "$large"; large_status="$status" large_error="$error"

if [ "$small_status" = SUCCEEDED ] && [ "$large_status" = FAILED ] && [ "$large_error" = Rejected ]; then
  echo "OK: exp-17 approved and reimbursed; exp-18 rejected"
else
  echo "run.sh: unexpected outcome (see $APPROVAL_DATA/stepwise.log)" >&2
  exit 1
fi
