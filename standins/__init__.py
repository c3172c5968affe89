"""Stand-ins for Bitbucket Cloud, an OpenAI-compatible LLM and Jira Cloud on 127.0.0.1.

They speak the real wire formats and can inject faults, so the agent's clients are exercised
offline, in tests and in the demo.
"""
