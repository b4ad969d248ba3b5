"""Service harnesses for our own suite and benchmarks: real Prometheus, Alertmanager, ZooKeeper,
MariaDB, Redis, RabbitMQ, nginx, sshd, SMTP and llama.cpp on free loopback ports, a real uvicorn
server for an App, and pipeline timelines on a fake clock.

They live here, not in ``steadyops.testing``, because they start processes, mount tmpfs as root and
import test-only packages (``aiosmtpd``): none of that belongs in what a plain install ships. The
small kit for plugin authors stays in ``steadyops.testing`` (fake clock, receiver, scripted model,
tokens).

How it is imported: as ``tests.harness``. pytest puts the repository root on ``sys.path`` through
the ``pythonpath = ["."]`` setting in pyproject.toml (which works with ``--import-mode=importlib``,
where pytest itself changes no ``sys.path``); scripts under ``bench/`` insert the repository root
themselves, next to the ``src`` line they already have. ``tests`` has no ``__init__.py``, so it is a
namespace package and nothing else under ``tests/`` changes how it is collected.
"""
