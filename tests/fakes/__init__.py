"""Fake Slack, Jira, Databricks SQL and webhook servers on 127.0.0.1 for the receivers' tests.

Each speaks the real request and response shapes of the endpoints lakesentinel's receivers call, so
the real client libraries (slack-sdk, jira, databricks-sdk, urllib) talk to them unchanged. Each can
be told to answer 429 or 500, or to hang, and counts what it received.
"""
