"""The rules engine: YAML detection rules that security and platform teams own.

Stages, one module each: ``lakesentinel.yamlpos`` (files with positions) -> ``model`` (typed rule, JSON Schema) ->
``loader`` (schema check, validators, collect-errors, hot reload) -> ``compiler`` (source mapping,
``expressions``/``detection``/``aggregates`` checks) -> ``matchframe`` (one Spark projection per batch) ->
``windows`` (match, threshold and sequence evaluation with ``state``) -> ``emit`` (alert records).
``engine`` runs them on the hot path; ``testing`` and ``backtest`` run the same path offline.
"""
