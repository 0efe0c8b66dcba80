"""The one definition of a usage row's list price and cost, used by silver, the rules and the detectors.

A usage row is priced at the list price in force when the usage ended: the row of
``billing.list_prices`` with the same SKU, cloud and unit whose ``[price_start_time, price_end_time)``
holds ``usage_end_time`` (an open end means still in force). The price is the effective list price
(``pricing.effective_list.default``: the promotional price while there is one), else the default
list price. Only prices in ``CURRENCY`` count, so a row never meets two prices. Cost is
``usage_quantity x list_price`` as DECIMAL(38,18); a row without a price keeps null price and cost.

These functions are pure: they take the frames and return frames, and read nothing themselves.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

CURRENCY = "USD"
PRICE_COLUMNS = ("list_price", "currency_code", "list_cost")
MONEY = "decimal(38,18)"


def list_cost(quantity: Column, price: Column) -> Column:
    """``quantity x price`` as DECIMAL(38,18)."""
    # Narrow the operands first: decimal(38,18) x decimal(38,18) would lose scale in Spark's arithmetic.
    return (quantity.cast("decimal(24,9)") * price.cast("decimal(14,9)")).cast(MONEY)


def price_table(list_prices: DataFrame) -> DataFrame:
    """Rows of ``billing.list_prices`` reduced to what pricing joins on, in ``CURRENCY``."""
    return (list_prices.where(F.col("currency_code") == CURRENCY)
            .select(F.col("sku_name").alias("_p_sku"), F.col("cloud").alias("_p_cloud"),
                    F.col("usage_unit").alias("_p_unit"), F.col("currency_code").alias("_p_currency"),
                    F.col("price_start_time").alias("_p_start"), F.col("price_end_time").alias("_p_end"),
                    F.coalesce("pricing.effective_list.default", "pricing.default").cast(MONEY).alias("_p_price")))


def price_usage(usage: DataFrame, prices: DataFrame) -> DataFrame:
    """``usage`` with ``list_price``, ``currency_code`` and ``list_cost``; ``prices`` is :func:`price_table`'s output.

    Columns of the same names already on ``usage`` are replaced.
    """
    on = ((F.col("sku_name") == F.col("_p_sku")) & (F.col("cloud") == F.col("_p_cloud"))
          & (F.col("usage_unit") == F.col("_p_unit")) & (F.col("usage_end_time") >= F.col("_p_start"))
          & (F.col("_p_end").isNull() | (F.col("usage_end_time") < F.col("_p_end"))))
    base = usage.drop(*[c for c in PRICE_COLUMNS if c in usage.columns])
    return (base.join(F.broadcast(prices), on, "left")
            .withColumn("list_price", F.col("_p_price"))
            .withColumn("currency_code", F.col("_p_currency"))
            .withColumn("list_cost", list_cost(F.col("usage_quantity"), F.col("_p_price")))
            .drop("_p_sku", "_p_cloud", "_p_unit", "_p_currency", "_p_start", "_p_end", "_p_price"))
