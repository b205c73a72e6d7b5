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
# stepwise binary: $STEPWISE_BIN, else target/{release,debug}/stepwise, else `stepwise`
# on PATH. The files (inventory.db, outbox/, labels/, warehouse/, charges.jsonl) go to
# $ORDER_DATA, a new temporary folder unless set; it is kept and printed at the end.
# Exit code 0 when the first order shipped and the second failed with PaymentDeclined.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
find_stepwise
use_venv  # `python3` in stepwise.toml is the venv's; so is `aws`.

export ORDER_DATA="${ORDER_DATA:-$(mktemp -d "${TMPDIR:-/tmp}/stepwise-order.XXXXXX")}"
export PAYMENTS_API_KEY="${PAYMENTS_API_KEY:-sk_test_$(python3 -c 'import secrets; print(secrets.token_hex(8))')}"
mkdir -p "$ORDER_DATA"
scratch run stepwise-order-run

# 1. The payment service; it prints its URL once it listens.
background python3 "$here/payments.py" --port 0 --ledger "$ORDER_DATA/charges.jsonl" \
  > "$run/payments.url" 2> "$ORDER_DATA/payments.log"
for _ in $(seq 100); do [ -s "$run/payments.url" ] && break; sleep 0.1; done
payments="$(head -1 "$run/payments.url")"
[ -n "$payments" ] || { echo "run.sh: the payment service did not start:" >&2; cat "$ORDER_DATA/payments.log" >&2; exit 1; }

# 2. Stepwise, serving the API (the warehouse answers through it) with the functions.
serve "$run/stepwise" "$ORDER_DATA/stepwise.log" --config "$here/stepwise.toml"
echo "payment service $payments, Stepwise $endpoint, files in $ORDER_DATA"

# 3. The AWS CLI, as against AWS.
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

wait_done "$paid"; paid_status="$status"
wait_done "$declined"; declined_status="$status" declined_error="$error"

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
