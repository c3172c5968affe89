"""Clients for the outside services: git hosts, the LLM, Jira, SMTP."""
