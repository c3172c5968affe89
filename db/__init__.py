"""The history database: models, engine and sessions, recorder, stats and maintenance helpers."""
