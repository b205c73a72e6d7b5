#!/usr/bin/env bash
# The order workflow for real, in one command:
#
#   bash examples/order/run.sh
#
# Starts the payment service (payments.py) and `stepwise serve --config
# examples/order/stepwise.toml` on free ports, creates the state machine with the AWS CLI,
# runs two orders (input.json is paid, input-declined.json's card is declined), prints
# each outcome and what the functions wrote, then stops both services.
#
# Needs target/py-venv (`bash scripts/py-venv`: awslambdaric, boto3, awscli) and a
# stepwise binary: $STEPWISE_BIN, else target/{release,ci,debug}/stepwise, else `stepwise`
# on PATH. The files (inventory.db, outbox/, labels/, warehouse/, charges.jsonl) go to
# $ORDER_DATA, a new temporary folder unless set; it is kept and printed at the end.
# Exit code 0 when the first order shipped and the second failed with PaymentDeclined.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

venv="$root/target/py-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import awslambdaric, boto3' 2>/dev/null; then
  echo "run.sh: no Python venv with awslambdaric and boto3; run: bash scripts/py-venv" >&2
  exit 1
fi
# `python3` in stepwise.toml is the venv's; so is `aws`.
export PATH="$venv/bin:$PATH" PYTHONDONTWRITEBYTECODE=1

stepwise="${STEPWISE_BIN:-}"
for candidate in "$root/target/release/stepwise" "$root/target/ci/stepwise" "$root/target/debug/stepwise"; do
  [ -n "$stepwise" ] && break
  [ -x "$candidate" ] && stepwise="$candidate"
done
stepwise="${stepwise:-$(command -v stepwise || true)}"
[ -n "$stepwise" ] || { echo "run.sh: no stepwise binary; cargo build --release" >&2; exit 1; }

export ORDER_DATA="${ORDER_DATA:-$(mktemp -d "${TMPDIR:-/tmp}/stepwise-order.XXXXXX")}"
export PAYMENTS_API_KEY="${PAYMENTS_API_KEY:-sk_test_$(python3 -c 'import secrets; print(secrets.token_hex(8))')}"
mkdir -p "$ORDER_DATA"
run="$(mktemp -d "${TMPDIR:-/tmp}/stepwise-order-run.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$run"
}
trap cleanup EXIT

# 1. The payment service; it prints its URL once it listens.
python3 "$here/payments.py" --port 0 --ledger "$ORDER_DATA/charges.jsonl" \
  > "$run/payments.url" 2> "$ORDER_DATA/payments.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$run/payments.url" ] && break; sleep 0.1; done
payments="$(head -1 "$run/payments.url")"
[ -n "$payments" ] || { echo "run.sh: the payment service did not start:" >&2; cat "$ORDER_DATA/payments.log" >&2; exit 1; }

# 2. Stepwise, serving the API (the warehouse answers through it) with the functions.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
endpoint="http://127.0.0.1:$port"
"$stepwise" serve --config "$here/stepwise.toml" --data-dir "$run/stepwise" --port "$port" \
  > "$ORDER_DATA/stepwise.log" 2>&1 &
pids+=($!)
healthy() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/health", timeout=1)' "$endpoint" 2>/dev/null; }
for _ in $(seq 100); do healthy && break; sleep 0.1; done
healthy || { echo "run.sh: stepwise serve did not start:" >&2; cat "$ORDER_DATA/stepwise.log" >&2; exit 1; }
echo "payment service $payments, Stepwise $endpoint, files in $ORDER_DATA"

# 3. The AWS CLI, as against AWS (dummy keys: Stepwise does not check them).
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
sfn() { aws stepfunctions --endpoint-url "$endpoint" "$@"; }
sm="$(sfn create-state-machine --name order --definition "file://$here/order.asl.json" \
  --role-arn arn:aws:iam::123456789012:role/order --query stateMachineArn --output text)"

start() {  # start INPUT_FILE: the input with this run's payment service URL
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); d["paymentsApi"] = sys.argv[2]; print(json.dumps(d))' \
    "$1" "$payments" > "$run/input.json"
  local name; name="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["orderId"])' "$1")"
  sfn start-execution --state-machine-arn "$sm" --name "$name" --input "file://$run/input.json" \
    --query executionArn --output text
}
paid="$(start "$here/input.json")"
declined="$(start "$here/input-declined.json")"

finish() {  # finish EXECUTION_ARN: wait for its end, print its outcome; sets $status, $error
  status=RUNNING
  for _ in $(seq 600); do
    status="$(sfn describe-execution --execution-arn "$1" --query status --output text)"
    [ "$status" != RUNNING ] && break
    sleep 0.2
  done
  error="$(sfn describe-execution --execution-arn "$1" --query 'error || `""`' --output text)"
  echo "--- execution ${1##*:}: $status $error"
  sfn describe-execution --execution-arn "$1" --query 'output || cause' --output text | python3 -m json.tool
}
finish "$paid"; paid_status="$status"
finish "$declined"; declined_status="$status" declined_error="$error"

echo "--- what the functions wrote in $ORDER_DATA"
for f in "$ORDER_DATA"/outbox/*.eml "$ORDER_DATA"/labels/*.txt "$ORDER_DATA"/warehouse/packed/*.json; do
  [ -f "$f" ] && { echo "== ${f#$ORDER_DATA/}"; cat "$f"; echo; }
done
echo "== inventory.db"
python3 - "$ORDER_DATA/inventory.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for row in db.execute("SELECT sku, on_hand, reserved FROM stock ORDER BY sku"):
    print("  stock        %-8s on hand %2d, reserved %d" % row)
for row in db.execute("SELECT id, status FROM reservations ORDER BY id"):
    print("  reservation  %s: %s" % row)
PY
echo "== charges.jsonl"; cat "$ORDER_DATA/charges.jsonl" 2>/dev/null || echo "(no charge)"

if [ "$paid_status" = SUCCEEDED ] && [ "$declined_status" = FAILED ] && [ "$declined_error" = PaymentDeclined ]; then
  echo "OK: order-1001 shipped; order-1002 declined, its stock released"
else
  echo "run.sh: unexpected outcome (see $ORDER_DATA/stepwise.log)" >&2
  exit 1
fi
