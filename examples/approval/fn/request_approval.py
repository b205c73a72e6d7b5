"""Files an approval request: {expense, execution, taskToken} on stdin, written to
$APPROVAL_INBOX/<id>.json for approver.py. Returns {"filed": PATH} on stdout.

Run as a `command` function by Stepwise; the state calling it is
`lambda:invoke.waitForTaskToken`, so the execution waits until someone answers with the
task token (approver.py, the console's Approve / Reject, or any AWS SDK).
"""

import json
import os
import sys
from pathlib import Path

request = json.load(sys.stdin)
inbox = Path(os.environ["APPROVAL_INBOX"])
inbox.mkdir(parents=True, exist_ok=True)
expense_id = str(request["expense"]["id"])
path = inbox / f"{expense_id}.json"
# Written then renamed, so the approver never reads half a file.
tmp = path.with_suffix(".tmp")
tmp.write_text(json.dumps(request, indent=2))
tmp.rename(path)
json.dump({"filed": str(path)}, sys.stdout)
