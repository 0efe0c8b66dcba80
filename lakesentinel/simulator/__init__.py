"""A simulated Databricks organisation that writes the system tables' exact schemas.

Data is internally consistent (usage points at existing jobs, runs, clusters and warehouses; queries run
on existing warehouses by existing users), seasonal, growing, and carries injected incidents whose
ground truth is written beside it. The same seed gives the same data.
"""
