"""The system tables as lakesentinel sees them: reference schemas, writers, and replay of exports."""
