"""Actions: the outbox, the delivery worker and the receivers (Slack, Jira, Databricks SQL alerts, webhook, console)."""
