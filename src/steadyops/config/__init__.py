"""Configuration: the ``Settings`` model (``settings``), the operating-rhythm settings (``operations``),
durations, log-source declarations, and the one-line explanations of every configuration mistake
(``errors``).

Kept below everything that reads it: configuration names no stage, source or integration, so loading
``steadyops.yaml`` stays cheap and cannot start anything.
"""
