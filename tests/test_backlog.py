"""Backlog bookkeeping that needs no Spark: a checkpoint's committed source version, and whether a
stage's backlog grew through the live phase."""

from __future__ import annotations

from lakesentinel.backlog import BacklogTrace, StageBacklog, checkpointed_version

OFFSET = '{"sourceVersion":1,"reservoirId":"r","reservoirVersion":%d,"index":-1,"isStartingVersion":false}'


def _batch(root, n: int, version: int, committed: bool) -> None:
    (root / "offsets").mkdir(exist_ok=True)
    (root / "commits").mkdir(exist_ok=True)
    (root / "offsets" / str(n)).write_text(f'v1\n{{"batchWatermarkMs":0}}\n{OFFSET % version}\n')
    if committed:
        (root / "commits" / str(n)).write_text('v1\n{"nextBatchWatermarkMs":0}\n')


def test_a_checkpoint_is_read_at_its_last_committed_batch(tmp_path):
    assert checkpointed_version(str(tmp_path)) is None
    _batch(tmp_path, 0, 4, committed=True)
    _batch(tmp_path, 1, 9, committed=True)
    _batch(tmp_path, 2, 12, committed=False)  # planned, not committed: not read yet
    assert checkpointed_version(str(tmp_path)) == 9


def test_the_trace_says_which_stage_grew_while_data_flowed():
    trace = BacklogTrace()
    for phase, silver, bronze in (("history", 9, 1), ("live", 2, 3), ("live", 5, 0), ("live", 8, 1),
                                  ("drain", 4, 0), ("drain", 0, 0)):
        trace.add(phase, [StageBacklog("silver.usage", "plt_bronze.billing_usage", silver),
                          StageBacklog("bronze.billing.usage", "system_billing.usage", bronze)])
    for i, sample in enumerate(trace.samples):  # one sample a second
        sample.at = float(i)
    summary = trace.summary("live")
    assert summary["silver.usage"]["grew"] and (summary["silver.usage"]["live_start"],
                                                summary["silver.usage"]["live_end"]) == (2, 8)
    assert summary["silver.usage"]["grew_since_s"] == 2.0  # it rose above 2 at the second live sample
    assert not summary["bronze.billing.usage"]["grew"] and summary["bronze.billing.usage"]["grew_since_s"] is None
    assert summary["silver.usage"]["peak"] == 9
    assert trace.growing("live") == ["silver.usage"]


def test_the_live_view_says_which_stage_is_growing():
    from rich.console import Console

    from lakesentinel.demo.live_run import LiveRunState
    from lakesentinel.demo.view import render

    state = LiveRunState(phase="live", backlog=[StageBacklog("silver.usage", "plt_bronze.billing_usage", 8)],
                         growing=["silver.usage"])
    console = Console(width=200, record=True)
    console.print(render([], 0, state))
    text = console.export_text()
    assert "silver.usage 8" in text and "growing since the live phase began: silver.usage" in text


def test_a_stage_behind_says_by_how_much_of_what():
    stage = StageBacklog("worker", "plt_ops.action_outbox", 3, "outbox commits not taken yet")
    assert not stage.caught_up
    assert stage.describe() == "worker: 3 notification(s) of plt_ops.action_outbox behind (outbox commits not taken yet)"
