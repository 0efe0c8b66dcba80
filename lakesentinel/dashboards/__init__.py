"""Lakeview (AI/BI) dashboards, one per persona, generated from gold's views, the metric views and the
incident reviews, and deployed by the bundle."""
