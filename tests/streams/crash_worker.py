"""Runs the audit bronze stream in its own process; optionally hangs right after batch N is committed.

``python -m tests.streams.crash_worker HOME [HANG_AFTER_BATCH]``: the test kills this process with
SIGKILL while it hangs, after bronze has the batch but before the checkpoint records it.
"""

import os
import sys
import time
from pathlib import Path


def main() -> None:
    home, hang_after = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None
    os.environ["LAKESENTINEL_HOME"] = home
    from lakesentinel.lakehouse import Lakehouse
    from lakesentinel.session import get_spark
    from lakesentinel.settings import load_settings
    from lakesentinel.streams.bronze import BronzeSink, ensure_bronze, source_stream

    cfg = load_settings("local")
    spark = get_spark(cfg)
    table = "access.audit"
    target = ensure_bronze(spark, cfg, table)

    class HangingSink(BronzeSink):
        def __call__(self, batch, batch_id):
            super().__call__(batch, batch_id)
            if hang_after is not None and batch_id >= hang_after:
                Path(home, "hanging").write_text(str(batch_id))
                time.sleep(3600)

    sink = HangingSink(cfg, table, target)
    query = (source_stream(spark, cfg, table, {"maxFilesPerTrigger": "2"}).writeStream.foreachBatch(sink)
             .option("checkpointLocation", Lakehouse(cfg).checkpoint(f"bronze.{table}"))
             .trigger(availableNow=True).start())
    sink.bind(query)
    query.awaitTermination()
    Path(home, "done").write_text("ok")


if __name__ == "__main__":
    main()
