"""RabbitMQ: AMQP port handshake, node alarms and resources, queue backlogs (management HTTP API),
with collectors for the overview, nodes and deepest queues.

Targets have kind ``rabbitmq`` and address ``host:port`` (AMQP); see :mod:`.checks` for the labels.
Without the management plugin the API checks answer UNKNOWN (layer config) saying how to enable
it, while ``rabbitmq.port`` still tells whether the broker is up.
"""

from __future__ import annotations

from steadyops.integrations.rabbitmq.checks import CHECKS
from steadyops.integrations.rabbitmq.collectors import COLLECTORS
from steadyops.plugins import Registry

__all__ = ["CHECKS", "COLLECTORS", "register"]


def register(registry: Registry) -> None:
    registry.add_kind_alias("rabbitmq", "rabbit", "mq")
    for check in CHECKS:
        registry.add_check(check)
    for collector in COLLECTORS:
        registry.add_collector(collector)
