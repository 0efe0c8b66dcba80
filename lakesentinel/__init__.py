"""lakesentinel: a real-time monitor for the Databricks platform, built on its system tables."""

__version__ = "0.1.0"
