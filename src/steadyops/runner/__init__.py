"""The check runner: runs checks on demand (``checks``) and on schedule (``scheduler``, ``rounds``).

How rounds (and remediation applies) are handed over, in this process or to Celery workers, is the
job engine above it: :mod:`steadyops.jobs`.
"""
