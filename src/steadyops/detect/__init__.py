"""Anomaly detection over metrics and logs: streaming detectors that feed diagnosis."""
