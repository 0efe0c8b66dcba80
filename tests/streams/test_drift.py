"""Schema drift: fields Databricks adds inside nested columns are additive at any depth; a retyped one is not."""

from pyspark.sql import types as T

from lakesentinel.streams.drift import compare

COMPUTE = T.StructType([T.StructField("type", T.StringType()), T.StructField("cluster_id", T.StringType())])
WIDER = T.StructType(COMPUTE.fields + [T.StructField("node_count", T.StringType())])


def _schema(compute: T.DataType) -> T.StructType:
    return T.StructType([T.StructField("run_id", T.StringType()), T.StructField("compute", compute)])


def test_a_field_added_in_an_array_of_structs_or_a_map_of_structs_is_additive():
    for wrap in (T.ArrayType, lambda s: T.MapType(T.StringType(), s)):
        drift = compare(_schema(wrap(WIDER)), _schema(wrap(COMPUTE)), set())
        assert (drift.added, drift.problems) == ([], [])


def test_a_retyped_field_in_an_array_of_structs_stops_the_stream():
    retyped = T.StructType([T.StructField("type", T.IntegerType()), T.StructField("cluster_id", T.StringType())])
    drift = compare(_schema(T.ArrayType(retyped)), _schema(T.ArrayType(COMPUTE)), set())
    assert len(drift.problems) == 1 and "column `compute` changed type" in drift.problems[0]
