"""Silver: typed, flattened, SCD2 dimensions, inherited tags, priced cost, data-quality checked.

Every task reads its bronze table's change feed from its own offset, so an incremental run reads what
changed since the last one, and writes with MERGE on natural keys, so re-running a batch after a crash
changes nothing.
"""
