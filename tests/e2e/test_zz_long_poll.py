"""GetActivityTask with no work: an empty answer after AWS's 60-second long poll.

The poll is started in the background when the session starts (conftest.LongPollProbe), so its
minute overlaps the rest of the suite; this module is named to run last and only waits for
whatever is left of that minute."""

import time


def test_get_activity_task_without_work_returns_empty_token(long_poll_probe):
    probe = long_poll_probe
    assert probe is not None
    probe.thread.join(timeout=max(1.0, 75 - (time.monotonic() - probe.started)))
    assert not probe.thread.is_alive(), "GetActivityTask did not answer within 75 s"
    assert probe.error is None, probe.error
    # The API reference: after the 60 s poll "the service responds with an empty taskToken"
    # (boto3 shows an absent member as missing, an empty string as '').
    assert probe.response.get("taskToken", "") == ""
    assert "input" not in probe.response or probe.response["input"] in ("", None)
    # Not early (AWS holds the poll for up to 60 s), not much later either.
    assert 55 <= probe.elapsed <= 70, probe.elapsed
