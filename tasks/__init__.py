"""Thin Prefect tasks: each calls a client or the edit engine and records history."""
