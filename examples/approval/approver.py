"""The approver: answers the approval requests filed in an inbox, with their task tokens.

    python3 approver.py INBOX [--ask] [--limit EUR] [--count N]

Each request (written by fn/request_approval.py) holds an expense and the task token of
the waiting RequestApproval state. With --ask a person decides at the terminal; otherwise
the rule approves expenses up to --limit (default 500) and rejects the rest. Approving is
SendTaskSuccess with {"approvedBy", "approvedAt"}; rejecting is SendTaskFailure with the
error "Rejected" and a cause — as any AWS code would, through boto3 (the endpoint from
AWS_ENDPOINT_URL_SFN or AWS_ENDPOINT_URL). Answered requests move to INBOX/answered/.
Stops after --count answers (default: runs until interrupted).
"""

import argparse
import getpass
import json
import time
from pathlib import Path

import boto3


def decide(expense: dict, ask: bool, limit: float) -> tuple[bool, str]:
    if ask:
        line = input(f"approve {expense['id']}: {expense['amount']} EUR for {expense['purpose']!r}? [y/N] ")
        return line.strip().lower() in ("y", "yes"), "declined at the terminal"
    if expense["amount"] <= limit:
        return True, ""
    return False, f"{expense['amount']} EUR is over the {limit:g} EUR limit"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("inbox", type=Path)
    p.add_argument("--ask", action="store_true", help="ask at the terminal")
    p.add_argument("--limit", type=float, default=500.0, help="approve up to this amount")
    p.add_argument("--count", type=int, default=0, help="stop after this many answers")
    a = p.parse_args()
    sfn = boto3.client("stepfunctions")
    answered = a.inbox / "answered"
    answered.mkdir(parents=True, exist_ok=True)
    print(f"[approver] watching {a.inbox} for {sfn.meta.endpoint_url}", flush=True)
    done = 0
    while not a.count or done < a.count:
        requests = sorted(a.inbox.glob("*.json"))
        if not requests:
            time.sleep(0.2)
            continue
        for path in requests:
            request = json.loads(path.read_text())
            expense = request["expense"]
            ok, why = decide(expense, a.ask, a.limit)
            if ok:
                answer = {"approvedBy": getpass.getuser(), "approvedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
                sfn.send_task_success(taskToken=request["taskToken"], output=json.dumps(answer))
                print(f"[approver] {expense['id']}: approved", flush=True)
            else:
                sfn.send_task_failure(taskToken=request["taskToken"], error="Rejected", cause=why)
                print(f"[approver] {expense['id']}: rejected ({why})", flush=True)
            path.rename(answered / path.name)
            done += 1


if __name__ == "__main__":
    main()
