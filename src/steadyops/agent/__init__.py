"""The agent: natural-language commands, and (with an LLM) guarded investigation over read-only tools."""
