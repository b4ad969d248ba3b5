"""Where observations come from, before any verdict: configured log files, the Prometheus HTTP API,
Prometheus text exposition, HTTP probing of what we watch, and rates of cumulative counters.

Checks, collectors, diagnosis and the agent's tools read through these; none of them decides
anything, so the same reading serves a live incident and a report.
"""
