"""Alerts and their lifecycle: the record every rule and detector emits, dedup, grouping, incidents."""
