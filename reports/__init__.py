"""Human-facing reports built from the history tables (the daily LLM cost report)."""
