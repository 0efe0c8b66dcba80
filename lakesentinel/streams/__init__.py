"""Ingestion into bronze: one streaming query per streamable source, HWM and snapshot batches for the rest."""
