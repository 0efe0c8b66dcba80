"""Advisors: warehouse, workflow and table findings from gold, kept in ``plt_gold.fact_recommendation``."""
