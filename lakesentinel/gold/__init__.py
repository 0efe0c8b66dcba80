"""Gold: the star schema (SCD2 dimensions, facts by date_key) and the views that answer the platform's questions.

Dimensions are rebuilt from silver's versions with stable surrogate keys; facts point at the version
valid at their event time and are rebuilt by date: an incremental build rewrites only the dates that
silver's change feed, changed dimension versions and the late window name. DDL lives in ``sql/``.
"""
