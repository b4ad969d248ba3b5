"""A small kit for plugin authors (and our own tests): nothing here starts a service or needs root.

- ``FakeClock`` (re-exported from ``steadyops.core.clock``): time that moves only when told, so
  timer tests assert "between 3 and 3.5 s" without sleeping.
- ``steadyops.testing.receiver.Receiver``: a local stand-in for the chat vendors' webhooks, as
  strict as each vendor (signatures, timestamps, HTTP 200 with an error code).
- ``steadyops.testing.scripted_llm.ScriptedLLM``: a scripted OpenAI-compatible server that plays
  recorded turns, tool calls included.
- ``steadyops.testing.auth``: tokens for any role (``admin_token``, ``token_for``, ``bearer``), so a
  test authenticates the way a real client does.
- ``steadyops.testing.pytest_plugin``: a ``steadyops_clock`` fixture, loaded only when asked for
  (``pytest -p steadyops.testing.pytest_plugin`` or ``pytest_plugins = [...]`` in a conftest): no
  pytest plugin is loaded into anyone's session by installing steadyops.

Harnesses that start real services (Prometheus, ZooKeeper, MariaDB, nginx, sshd, SMTP, llama.cpp)
live with our test suite in ``tests/harness``, not here: they spawn processes, mount tmpfs as root
and import test-only packages, none of which a plain install should carry.
"""

from steadyops.core.clock import FakeClock

__all__ = ["FakeClock"]
