"""Tag normalisation and inheritance, as Spark expressions.

Keys are lower-cased, trimmed and mapped through configured aliases (``costcenter`` -> ``cost_center``);
values are trimmed. Where keys collide, the first one wins, which is also how inheritance works: usage's
own tags first, then its job's, then its cluster's.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

_ENTRY = "struct<key:string,value:string>"


def _alias_map(aliases: dict[str, str]) -> Column:
    if not aliases:
        return F.create_map().cast("map<string,string>")
    pairs = []
    for source, target in sorted(aliases.items()):
        pairs += [F.lit(source.strip().lower()), F.lit(target)]
    return F.create_map(*pairs)


def _entries(tags: Column, aliases: dict[str, str]) -> Column:
    alias = _alias_map(aliases)

    def norm(e: Column) -> Column:
        key = F.lower(F.trim(e["key"]))
        return F.struct(F.coalesce(alias[key], key).alias("key"), F.trim(e["value"]).alias("value"))

    return F.transform(F.coalesce(F.map_entries(tags), F.array().cast(f"array<{_ENTRY}>")), norm)


def first_wins(entries: Column) -> Column:
    """A map from key/value entries where the first occurrence of each key is kept."""
    empty = F.create_map().cast("map<string,string>")
    return F.aggregate(entries, empty, lambda acc, e: F.when(
        F.array_contains(F.map_keys(acc), e["key"]), acc).otherwise(F.map_concat(acc, F.create_map(e["key"], e["value"]))))


def normalise(tags: Column, aliases: dict[str, str]) -> Column:
    return first_wins(_entries(tags, aliases))


def inherit(aliases: dict[str, str], *layers: Column) -> Column:
    """Tags of several layers merged, earlier layers winning (usage, then job, then cluster)."""
    return first_wins(F.concat(*[_entries(layer, aliases) for layer in layers]))


def missing(tags: Column, required: list[str]) -> Column:
    """The required keys absent from ``tags``."""
    return F.filter(F.array(*[F.lit(k) for k in required]), lambda k: ~F.array_contains(F.map_keys(tags), k))
