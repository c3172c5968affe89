"""The HTTP app of `sdb-agent serve`: the Jira webhook and the history and stats API."""
