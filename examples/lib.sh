# What the examples' run.sh scripts share; sourced, not run. Sets `root` (the repository),
# and gives:
#   find_stepwise        sets $stepwise: $STEPWISE_BIN, else target/{release,debug}/stepwise,
#                        else `stepwise` on PATH
#   use_venv             puts target/py-venv first on PATH (python3 with boto3, awslambdaric;
#                        aws), or exits saying how to make it
#   free_port            prints a free TCP port on loopback
#   serve DATA LOG ARGS  starts `stepwise serve` on a free port with ARGS, data in DATA, logs
#                        in LOG; sets $endpoint once /health answers; stopped on exit
#   background CMD...    starts CMD in the background; stopped on exit
#   scratch VAR PREFIX   sets VAR to a new temporary folder, removed on exit
#   sfn ARGS             `aws stepfunctions --endpoint-url $endpoint ARGS` with dummy keys
#   wait_done ARN        waits for the execution's end; prints "--- execution NAME: STATUS
#                        ERROR" and its output or cause; sets $status and $error
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONDONTWRITEBYTECODE=1
pids=()
scratches=()
at_exit() {
  for pid in ${pids[@]+"${pids[@]}"}; do kill "$pid" 2>/dev/null || true; done
  for pid in ${pids[@]+"${pids[@]}"}; do wait "$pid" 2>/dev/null || true; done
  for dir in ${scratches[@]+"${scratches[@]}"}; do rm -rf "$dir"; done
}
trap at_exit EXIT

scratch() {  # not in $(…): the folder must be registered in this shell
  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/$2.XXXXXX")"
  scratches+=("$dir")
  printf -v "$1" '%s' "$dir"
}

find_stepwise() {
  stepwise="${STEPWISE_BIN:-}"
  for candidate in "$root/target/release/stepwise" "$root/target/debug/stepwise"; do
    [ -n "$stepwise" ] && break
    [ -x "$candidate" ] && stepwise="$candidate"
  done
  stepwise="${stepwise:-$(command -v stepwise || true)}"
  [ -n "$stepwise" ] || { echo "run.sh: no stepwise binary; cargo build --release" >&2; exit 1; }
}

use_venv() {
  local venv="$root/target/py-venv"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import awslambdaric, boto3' 2>/dev/null; then
    echo "run.sh: no Python venv with awslambdaric and boto3; run: bash scripts/py-venv" >&2
    exit 1
  fi
  export PATH="$venv/bin:$PATH"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

background() {
  "$@" &
  pids+=($!)
}

serve() {  # serve DATA_DIR LOG_FILE [serve args...]
  local data="$1" log="$2"
  shift 2
  local port
  port="$(free_port)"
  endpoint="http://127.0.0.1:$port"
  background "$stepwise" serve --data-dir "$data" --port "$port" "$@" > "$log" 2>&1
  for _ in $(seq 100); do healthy && return 0; sleep 0.1; done
  echo "run.sh: stepwise serve did not start:" >&2
  cat "$log" >&2
  exit 1
}

healthy() {
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/health", timeout=1)' "$endpoint" 2>/dev/null
}

# The AWS CLI and boto3 as against AWS (dummy keys: Stepwise does not check them unless
# --sigv4-credentials is given).
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
sfn() { aws stepfunctions --endpoint-url "$endpoint" "$@"; }

wait_done() {
  status=RUNNING
  for _ in $(seq 600); do
    status="$(sfn describe-execution --execution-arn "$1" --query status --output text)"
    [ "$status" != RUNNING ] && break
    sleep 0.2
  done
  error="$(sfn describe-execution --execution-arn "$1" --query 'error || `""`' --output text)"
  echo "--- execution ${1##*:}: $status $error"
  sfn describe-execution --execution-arn "$1" --query 'output || cause' --output text | python3 -m json.tool 2>/dev/null \
    || sfn describe-execution --execution-arn "$1" --query 'output || cause' --output text
}
