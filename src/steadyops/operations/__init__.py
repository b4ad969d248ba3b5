"""The operating rhythm around incidents: SLOs and burn rates (``slo``), change intake and risk
(``changes``), on-call schedules and escalation (``oncall``), canary comparison (``canary``), and
their wiring into the composition root (``wiring``).
"""
