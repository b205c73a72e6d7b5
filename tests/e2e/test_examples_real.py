"""The real examples, run for real: examples/order under `stepwise serve` (the payment
service, awslambdaric handlers, an API-key connection, a task token answered by the
warehouse process through boto3) and examples/video through `stepwise run` (ffmpeg and
ffprobe, a Parallel of three transcodes, SQLite, a webhook). Every test checks what the
functions wrote: mails, stock, charges, labels, media files, rows and webhook receipts.

Nothing is written into the repository: the examples write under $ORDER_DATA / $VIDEO_DATA,
set here to temporary folders (and their Python functions run with
PYTHONDONTWRITEBYTECODE). The video tests are skipped when ffmpeg is not installed
(scripts/test installs it with apt-get)."""

from __future__ import annotations

import email
import email.policy
import filecmp
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import serve_own
import helpers
from helpers import create_sm, history, start, wait_for_execution

REPO = Path(__file__).resolve().parents[2]
ORDER = REPO / "examples" / "order"
VIDEO = REPO / "examples" / "video"
# The venv running this suite has awslambdaric and boto3: its python3 first on PATH.
VENV_BIN = str(Path(sys.executable).parent)


@contextmanager
def environ(**values: str):
    """os.environ with `values` set (the servers and functions started meanwhile inherit it)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class Service:
    """A helper service of an example (payments.py, webhook.py): a Python script that prints
    its URL on its first line once it listens."""

    def __init__(self, script: Path, *args: str, log: Path):
        self.log = open(log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(script), "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=self.log, text=True,
        )
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.stop()
            pytest.fail(f"{script.name} did not start: {log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.log.close()


def sh(*args, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, timeout=timeout)


def stepwise_bin() -> str:
    binary = os.environ.get("STEPWISE_BIN")
    if not binary:
        pytest.skip("set STEPWISE_BIN (path of the stepwise binary)")
    return binary


# ---------------------------------------------------------------- examples/order


class Order:
    def __init__(self, sfn, sm_arn: str, data: Path, payments: str, api_key: str, endpoint: str):
        self.sfn, self.sm_arn, self.data, self.payments = sfn, sm_arn, data, payments
        self.api_key, self.endpoint = api_key, endpoint

    def input(self, name: str, **changes) -> dict:
        order = json.loads((ORDER / name).read_text())
        order["orderId"] = helpers.unique(order["orderId"])
        order["paymentsApi"] = self.payments
        order.update(changes)
        return order

    def run(self, order: dict) -> tuple[str, dict]:
        arn = start(self.sfn, self.sm_arn, order, name=order["orderId"])
        return arn, wait_for_execution(self.sfn, arn, timeout=60)

    def stock(self) -> dict[str, tuple[int, int]]:
        """{sku: (on hand, reserved)}: the database, or the seed before the first order."""
        db_path = self.data / "inventory.db"
        if not db_path.exists():
            seed = json.loads((ORDER / "inventory.seed.json").read_text())["stock"]
            return {sku: (s["onHand"], 0) for sku, s in seed.items()}
        with sqlite3.connect(db_path) as db:
            return {sku: (on_hand, reserved) for sku, on_hand, reserved in db.execute("SELECT sku, on_hand, reserved FROM stock")}

    def reservation(self, order_id: str) -> str | None:
        with sqlite3.connect(self.data / "inventory.db") as db:
            row = db.execute("SELECT status FROM reservations WHERE order_id = ?", (order_id,)).fetchone()
        return row[0] if row else None

    def charges(self, order_id: str) -> list[dict]:
        ledger = self.data / "charges.jsonl"
        lines = ledger.read_text().splitlines() if ledger.exists() else []
        return [c for c in map(json.loads, lines) if c["orderId"] == order_id]


@pytest.fixture(scope="module")
def order(tmp_path_factory):
    data = tmp_path_factory.mktemp("order-data")
    api_key = "sk_test_" + uuid.uuid4().hex
    # stepwise.toml reads ORDER_DATA and PAYMENTS_API_KEY when the server loads it.
    with environ(ORDER_DATA=str(data), PAYMENTS_API_KEY=api_key, PYTHONDONTWRITEBYTECODE="1",
                 PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"):
        payments = Service(ORDER / "payments.py", "--ledger", str(data / "charges.jsonl"), log=data / "payments.log")
        try:
            for endpoint in serve_own("1", ("--config", str(ORDER / "stepwise.toml"))):
                sfn = helpers.client(endpoint)
                sm_arn = create_sm(sfn, (ORDER / "order.asl.json").read_text(), name=helpers.unique("order"))["stateMachineArn"]
                yield Order(sfn, sm_arn, data, payments.url, api_key, endpoint)
                sfn.close()
        finally:
            payments.stop()


def test_order_is_charged_mailed_taken_from_stock_packed_and_labelled(order):
    before = order.stock()
    o = order.input("input.json")
    arn, d = order.run(o)
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    assert out["orderId"] == o["orderId"] and out["status"] == "SHIPPED"

    # The card was charged once, through the API key of the connection.
    (charge,) = order.charges(o["orderId"])
    assert charge["id"] == out["chargeId"]
    assert (charge["amount"], charge["currency"], charge["card"]) == (3400, "EUR", "**** 4242")
    assert charge["idempotencyKey"] == o["orderId"]

    # The confirmation mail is in the outbox.
    mail_path = order.data / "outbox" / f"{o['orderId']}.eml"
    assert out["confirmation"] == str(mail_path)
    mail = email.message_from_bytes(mail_path.read_bytes(), policy=email.policy.default)
    assert mail["To"] == "Ada Lovelace <ada@example.com>"
    assert o["orderId"] in mail["Subject"]
    body = mail.get_content()
    assert "2 x BOOK-42" in body and "1 x MUG-7" in body and charge["id"] in body

    # The reserved items left the stock.
    after = order.stock()
    assert after["BOOK-42"] == (before["BOOK-42"][0] - 2, 0)
    assert after["MUG-7"] == (before["MUG-7"][0] - 1, 0)
    assert out["stockLeft"] == {"BOOK-42": after["BOOK-42"][0], "MUG-7": after["MUG-7"][0]}
    assert order.reservation(o["orderId"]) == "committed"

    # The warehouse process packed it and confirmed through the task token, with boto3
    # finding Stepwise in AWS_ENDPOINT_URL_SFN.
    slip = json.loads((order.data / "warehouse" / "packed" / f"{o['orderId']}.json").read_text())
    assert slip["weightKg"] == 2.0  # 2 books of 0.8 kg, a mug of 0.4 kg
    assert out["packedBy"] == slip["packedBy"]
    log = (order.data / "warehouse" / "warehouse.log").read_text()
    assert f"packing {o['orderId']} (2 lines) for {order.endpoint}" in log
    events = history(order.sfn, arn)
    scheduled = [e for e in events if e["type"] == "TaskScheduled"
                 and e["taskScheduledEventDetails"]["resource"] == "invoke.waitForTaskToken"]
    (token_task,) = scheduled
    token = json.loads(token_task["taskScheduledEventDetails"]["parameters"])["Payload"]["taskToken"]
    ticket = json.loads((order.data / "warehouse" / "tickets" / f"{o['orderId']}.json").read_text())
    assert ticket["taskToken"] == token
    succeeded = [e["taskSucceededEventDetails"] for e in events if e["type"] == "TaskSucceeded"
                 and e["taskSucceededEventDetails"]["resource"] == "invoke.waitForTaskToken"]
    assert [json.loads(s["output"]) for s in succeeded] == [slip]

    # The label, for the packed parcel.
    label = Path(out["label"]).read_text()
    assert out["trackingNumber"] in label and "10115 Berlin" in label and "Weight: 2.0 kg" in label

    # The API key never reached the history.
    assert order.api_key not in json.dumps(events, default=str)


def test_declined_card_releases_the_stock_and_fails(order):
    before = order.stock()
    o = order.input("input-declined.json")
    arn, d = order.run(o)
    assert d["status"] == "FAILED", d
    assert d["error"] == "PaymentDeclined"
    cause = json.loads(d["cause"])
    assert cause["StatusCode"] == 402
    assert cause["ResponseBody"]["error"]["code"] == "card_declined"

    events = history(order.sfn, arn)
    failed = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    assert [(f["resourceType"], f["resource"], f["error"]) for f in failed] == [("http", "invoke", "States.Http.StatusCode.402")]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    assert entered == ["CheckStock", "InStock?", "ChargeCard", "ReleaseStock", "PaymentDeclined"]

    # The compensation gave the reservation back: the stock is as before, nothing charged,
    # mailed, packed or labelled.
    assert order.reservation(o["orderId"]) == "released"
    assert order.stock() == before
    assert order.charges(o["orderId"]) == []
    assert not (order.data / "outbox" / f"{o['orderId']}.eml").exists()
    assert not (order.data / "warehouse" / "tickets" / f"{o['orderId']}.json").exists()
    assert not (order.data / "labels" / f"{o['orderId']}.txt").exists()


def test_out_of_stock_charges_nothing(order):
    before = order.stock()
    o = order.input("input.json", items=[{"sku": "TOWEL-1", "quantity": 1, "unitPrice": 1500}], total=1500)
    _, d = order.run(o)
    assert d["status"] == "FAILED", d
    assert (d["error"], d["cause"]) == ("OutOfStock", 'Not in stock: ["TOWEL-1"]')
    assert order.reservation(o["orderId"]) is None
    assert order.stock() == before
    assert order.charges(o["orderId"]) == []


def test_a_wrong_api_key_is_refused_by_the_payment_service(order):
    """The key really comes from the connection: the service refuses a call without it."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(order.payments + "/charges", method="POST", data=json.dumps(
        {"orderId": "x", "amount": 1, "currency": "EUR", "card": "4242424242424242"}).encode(),
        headers={"x-api-key": "wrong"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 401


# ---------------------------------------------------------------- examples/video


class Video:
    def __init__(self, data: Path, webhook: str, tmp: Path):
        self.data, self.webhook, self.tmp = data, webhook, tmp
        self.env = {**os.environ, "VIDEO_DATA": str(data), "PYTHONDONTWRITEBYTECODE": "1"}

    def clip(self, name: str, seconds: int, picture: str = "testsrc") -> str:
        """An upload made with make-clip.sh; its path relative to VIDEO_DATA."""
        rel = f"uploads/{name}.mp4"
        p = sh(VIDEO / "make-clip.sh", self.data / rel, seconds, picture, env=self.env)
        assert p.returncode == 0, p.stderr
        return rel

    def run(self, video_id: str, source: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
        """`stepwise run` on input.json with this video; the process and the history."""
        data = json.loads((VIDEO / "input.json").read_text())
        data.update(videoId=video_id, source=source, webhookUrl=f"{self.webhook}/hooks/video")
        input_file = self.tmp / f"{video_id}.input.json"
        input_file.write_text(json.dumps(data))
        history_file = self.tmp / f"{video_id}.history.json"
        p = sh(stepwise_bin(), "run", VIDEO / "video.asl.json", "--config", VIDEO / "stepwise.toml",
               "--input", input_file, "--history", history_file, env=self.env)
        events = json.loads(history_file.read_text())
        return p, events.get("events", events) if isinstance(events, dict) else events

    def row(self, video_id: str) -> dict | None:
        with sqlite3.connect(self.data / "videos.db") as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM videos WHERE video_id = ?", (video_id,)).fetchone()
        return dict(row) if row else None

    def received(self, video_id: str) -> list[dict]:
        path = self.data / "webhook.jsonl"
        records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        return [r for r in records if r["body"].get("videoId") == video_id]


def probe(path: Path) -> dict:
    p = sh("ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def called(events: list[dict], function: str) -> list[dict]:
    """The Payloads of the lambda:invoke calls of `function` in the history."""
    out = []
    for e in events:
        d = e.get("taskScheduledEventDetails")
        if d and (d["resourceType"], d["resource"]) == ("lambda", "invoke"):
            params = json.loads(d["parameters"])
            if params["FunctionName"] == function:
                out.append(params["Payload"])
    return out


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    stepwise_bin()
    if not (shutil.which("ffmpeg") and shutil.which("ffprobe")):
        pytest.skip("ffmpeg/ffprobe not installed (Debian: apt-get install ffmpeg; scripts/test does it)")
    data = tmp_path_factory.mktemp("video-data")
    receiver = Service(VIDEO / "webhook.py", "--out", str(data / "webhook.jsonl"), "--token", "local-webhook-token",
                       log=data / "webhook.log")
    try:
        yield Video(data, receiver.url, tmp_path_factory.mktemp("video-run"))
    finally:
        receiver.stop()


def test_video_is_transcoded_stored_recorded_and_notified(video):
    video_id = helpers.unique("vid")
    upload = video.clip(video_id, 2)
    p, events = video.run(video_id, upload)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert (out["videoId"], out["status"], out["resolution"]) == (video_id, "ready", "1920x1080")
    assert out["webhookStatus"] == 200

    # Three renditions, transcoded by three calls of the Parallel, in the hot folder.
    hot = video.data / "hot" / video_id
    assert sorted(c["height"] for c in called(events, "transcode")) == [480, 720, 1080]
    for name, (width, height) in {"1080p": (1920, 1080), "720p": (1280, 720), "480p": (854, 480)}.items():
        info = probe(hot / f"{name}.mp4")
        (v,) = [s for s in info["streams"] if s["codec_type"] == "video"]
        assert (v["codec_name"], v["width"], v["height"]) == ("h264", width, height), name
        assert [s["codec_name"] for s in info["streams"] if s["codec_type"] == "audio"] == ["aac"], name
        assert abs(float(info["format"]["duration"]) - 2) < 0.2, name
    assert out["renditions"] == [{"name": "1080p", "width": 1920, "height": 1080},
                                 {"name": "720p", "width": 1280, "height": 720},
                                 {"name": "480p", "width": 854, "height": 480}]

    # Thumbnails: three JPEG stills, 320 wide, beside the renditions.
    thumbs = sorted(hot.glob("thumb-*.jpg"))
    assert [t.name for t in thumbs] == ["thumb-01.jpg", "thumb-02.jpg", "thumb-03.jpg"]
    for t in thumbs:
        (v,) = probe(t)["streams"]
        assert (v["codec_name"], v["width"], v["height"]) == ("mjpeg", 320, 180)
    assert sorted(p.name for p in hot.iterdir()) == ["1080p.mp4", "480p.mp4", "720p.mp4", *[t.name for t in thumbs]]

    # Cold storage: the original, byte for byte; the scratch folder is gone.
    cold = video.data / "cold" / video_id
    assert [p.name for p in cold.iterdir()] == ["original.mp4"]
    assert filecmp.cmp(cold / "original.mp4", video.data / upload, shallow=False)
    assert not (video.data / "work" / video_id).exists()

    # The database row.
    row = video.row(video_id)
    assert (row["status"], row["user_id"], row["width"], row["height"]) == ("ready", "user-42", 1920, 1080)
    assert abs(row["duration_seconds"] - 2) < 0.2
    assert row["brightness"] > 20 and row["reason"] is None
    assert json.loads(row["renditions"]) == {n: str(hot / f"{n}.mp4") for n in ("1080p", "720p", "480p")}
    assert row["original"] == str(cold / "original.mp4")

    # The user's webhook got one notification, with the connection's token (else 401).
    (receipt,) = video.received(video_id)
    assert receipt["path"] == "/hooks/video"
    assert receipt["contentType"].startswith("application/json")
    body = receipt["body"]
    assert (body["event"], body["userId"], body["renditions"]) == ("video.ready", "user-42", ["1080p", "720p", "480p"])
    assert body["thumbnail"] == str(thumbs[0])
    assert "local-webhook-token" not in json.dumps(events)


def test_a_blank_video_is_rejected_by_moderation(video):
    video_id = helpers.unique("vid")
    p, events = video.run(video_id, video.clip(video_id, 1, "black"))
    assert p.returncode == 1, p.stdout
    assert "FAILED: VideoRejected" in p.stderr
    (moderation,) = [json.loads(e["taskSucceededEventDetails"]["output"])["Payload"] for e in events
                     if e["type"] == "TaskSucceeded" and '"approved"' in e["taskSucceededEventDetails"]["output"]]
    assert moderation["approved"] is False and moderation["averageBrightness"] < 20
    assert called(events, "transcode") == []
    row = video.row(video_id)
    assert row["status"] == "rejected" and row["reason"].startswith("blank picture: average brightness")
    assert (row["width"], row["height"]) == (1920, 1080)
    (receipt,) = video.received(video_id)
    assert receipt["body"]["event"] == "video.rejected"
    assert receipt["body"]["reason"] == row["reason"]
    assert not (video.data / "hot" / video_id).exists()


def test_a_file_that_is_not_a_video_is_rejected_by_validation(video):
    video_id = helpers.unique("vid")
    upload = f"uploads/{video_id}.mp4"
    (video.data / upload).write_text("this is not a video\n")
    p, events = video.run(video_id, upload)
    assert p.returncode == 1, p.stdout
    assert "FAILED: VideoRejected" in p.stderr
    failed = [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"]
    assert failed == ["InvalidVideo"]
    assert called(events, "extract-metadata") == []
    row = video.row(video_id)
    assert row["status"] == "rejected" and row["reason"].startswith(f"ffprobe cannot read {video_id}.mp4")
    assert row["width"] is None
    (receipt,) = video.received(video_id)
    assert receipt["body"] == {"event": "video.rejected", "videoId": video_id, "userId": "user-42", "reason": row["reason"]}


# ---------------------------------------------------------------- the run.sh scripts


def test_order_run_sh(tmp_path):
    stepwise_bin()
    env = {**os.environ, "ORDER_DATA": str(tmp_path), "TMPDIR": str(tmp_path)}
    p = sh("bash", ORDER / "run.sh", env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "--- execution order-1001: SUCCEEDED" in p.stdout
    assert "--- execution order-1002: FAILED PaymentDeclined" in p.stdout
    assert (tmp_path / "outbox" / "order-1001.eml").exists()
    assert (tmp_path / "labels" / "order-1001.txt").exists()
    # Nothing left running or behind but the data.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("stepwise-order-run")) == []


def test_video_run_sh(tmp_path):
    stepwise_bin()
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed")
    env = {**os.environ, "VIDEO_DATA": str(tmp_path), "TMPDIR": str(tmp_path), "CLIP_SECONDS": "1"}
    p = sh("bash", VIDEO / "run.sh", env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "OK: vid-0001 is ready" in p.stdout
    assert sorted(f.name for f in (tmp_path / "hot" / "vid-0001").iterdir()) == [
        "1080p.mp4", "480p.mp4", "720p.mp4", "thumb-01.jpg", "thumb-02.jpg", "thumb-03.jpg"]
    assert (tmp_path / "cold" / "vid-0001" / "original.mp4").exists()


def test_approval_run_sh(tmp_path):
    """Human approval: the task token reaches approver.py through the inbox; it approves
    the small expense (SendTaskSuccess) and rejects the large one (SendTaskFailure)."""
    stepwise_bin()
    env = {**os.environ, "APPROVAL_DATA": str(tmp_path), "TMPDIR": str(tmp_path)}
    p = sh("bash", REPO / "examples" / "approval" / "run.sh", env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "--- execution exp-17: SUCCEEDED" in p.stdout
    assert '"reimbursed": 120' in p.stdout
    assert "--- execution exp-18: FAILED Rejected" in p.stdout
    assert "4800 EUR is over the 500 EUR limit" in p.stdout
    # Each request was answered once and moved out of the inbox.
    assert sorted(f.name for f in (tmp_path / "inbox" / "answered").iterdir()) == ["exp-17.json", "exp-18.json"]
    assert list((tmp_path / "inbox").glob("*.json")) == []


def test_activity_run_sh(tmp_path):
    """An activity worker: worker.py long-polls GetActivityTask, heartbeats, and answers
    SendTaskSuccess with the counts, or SendTaskFailure for an empty document."""
    stepwise_bin()
    env = {**os.environ, "ACTIVITY_DATA": str(tmp_path), "TMPDIR": str(tmp_path)}
    p = sh("bash", REPO / "examples" / "activity" / "run.sh", env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "--- execution counted: SUCCEEDED" in p.stdout
    assert '"words": 32' in p.stdout and '"top": "the"' in p.stdout
    assert "--- execution empty: FAILED EmptyDocument" in p.stdout
