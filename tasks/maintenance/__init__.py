"""Prefect tasks of the scheduled maintenance flows; each wraps one `db`/`reports` helper."""
