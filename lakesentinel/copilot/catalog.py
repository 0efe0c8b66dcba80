"""The catalog: every tool by name, reads over gold and the knowledge index, and the writes."""

from __future__ import annotations

from lakesentinel.copilot import actions
from lakesentinel.copilot.tools import (CostOut, Days, FailingOut, IncidentsIn, IncidentsOut, JiraIn, JiraOut, JobIn,
                                        JobOut, LookupIn, LookupOut, MoversIn, MoversOut, QueriesOut, SecurityOut,
                                        SilenceIn, SilenceOut, Tool, TopIn, cost_by, cost_top_movers, failing_jobs,
                                        incidents, job_runs, runbook_lookup, security_events, slowest_queries)


def _writes() -> dict[str, Tool]:
    return {t.name: t for t in (
        Tool("silence_incident", "Mute one incident's signal (its fingerprint) for a while, with a comment",
             SilenceIn, SilenceOut, actions.silence_incident, write=True),
        Tool("open_jira_ticket", "Open (or find) the Jira issue for one incident through the configured Jira receiver",
             JiraIn, JiraOut, actions.open_jira_ticket, write=True),
    )}


def catalog() -> dict[str, Tool]:
    reads = (
        Tool("cost_by_workspace", "List cost per workspace over the last N days", Days, CostOut, cost_by("workspace_id")),
        Tool("cost_by_sku", "List cost per SKU over the last N days", Days, CostOut, cost_by("sku_name")),
        Tool("cost_top_movers", "Workspaces or SKUs whose daily list cost changed most against the previous day "
                                "(explains a cost spike)", MoversIn, MoversOut, cost_top_movers),
        Tool("incidents", "Incidents (active or all), counted by domain", IncidentsIn, IncidentsOut, incidents),
        Tool("job_runs", "One job's recent runs, failures and failure rate", JobIn, JobOut, job_runs),
        Tool("failing_jobs", "Jobs with failed runs over the last N days, by failure rate", TopIn, FailingOut,
             failing_jobs),
        Tool("slowest_queries", "The slowest SQL statements over the last N days", TopIn, QueriesOut, slowest_queries),
        Tool("security_events", "Security event types by severity over the last N days", TopIn, SecurityOut,
             security_events),
        Tool("runbook_lookup", "Keyword search over the rules' descriptions and runbooks and the project's docs",
             LookupIn, LookupOut, runbook_lookup),
    )
    return {t.name: t for t in reads} | _writes()

