"""sdb-agent: Jira issues in, Bitbucket pull requests out, every step recorded in PostgreSQL."""
