"""An activity worker: takes tasks of one activity and does them.

    python3 worker.py ACTIVITY_ARN [--name NAME] [--count N]

Polls with GetActivityTask (a long poll: Stepwise holds the request up to 60 s until a
task comes), counts the words of the task's `text`, sends SendTaskHeartbeat while it
works (the state's HeartbeatSeconds), and answers SendTaskSuccess with the counts — or
SendTaskFailure with the error "EmptyDocument" for a text without words. Through boto3,
as any AWS code would (the endpoint from AWS_ENDPOINT_URL_SFN or AWS_ENDPOINT_URL).
Stops after --count tasks (default: runs until interrupted).
"""

import argparse
import collections
import json
import re

import boto3
from botocore.config import Config


def count(text: str) -> dict:
    words = re.findall(r"[a-zA-Z']+", text.lower())
    top = collections.Counter(words).most_common(3)
    return {"words": len(words), "top": [{"word": w, "count": n} for w, n in top]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("activity_arn")
    p.add_argument("--name", default="worker.py")
    p.add_argument("--count", type=int, default=0, help="stop after this many tasks")
    a = p.parse_args()
    # The long poll outlasts botocore's default 60 s read timeout only just: give it room.
    sfn = boto3.client("stepfunctions", config=Config(read_timeout=70))
    print(f"[worker] polling {a.activity_arn} at {sfn.meta.endpoint_url}", flush=True)
    done = 0
    while not a.count or done < a.count:
        task = sfn.get_activity_task(activityArn=a.activity_arn, workerName=a.name)
        token = task.get("taskToken")
        if not token:
            continue  # the poll ended without a task; poll again
        document = json.loads(task["input"])
        sfn.send_task_heartbeat(taskToken=token)
        counts = count(document.get("text", ""))
        if counts["words"] == 0:
            sfn.send_task_failure(taskToken=token, error="EmptyDocument", cause=f"{document.get('document')} has no words")
            print(f"[worker] {document.get('document')}: failed (no words)", flush=True)
        else:
            sfn.send_task_success(taskToken=token, output=json.dumps(counts))
            print(f"[worker] {document.get('document')}: {counts['words']} words", flush=True)
        done += 1


if __name__ == "__main__":
    main()
