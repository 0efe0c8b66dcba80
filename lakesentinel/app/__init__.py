"""The Platform Health app: a FastAPI backend over one query layer, serving a React frontend.

``composition.py`` picks the query layer from configuration (local Spark + Delta, or a Databricks SQL
warehouse); routes in ``api.py`` only see the ``QueryLayer`` protocol and act through the CLI's code.
"""
