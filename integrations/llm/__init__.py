"""The LLM client: structured outputs over any OpenAI-compatible server, priced and cached."""
