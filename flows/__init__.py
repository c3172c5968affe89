"""Prefect flows: the process-issue job and the scheduled maintenance flows."""
