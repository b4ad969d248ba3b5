"""Where a command for a target runs: this machine or the target's host over SSH — one answer for all.

Inspection (:func:`host_for`, read-only), remediation (:func:`exec_record`, recorded in the plan so
its hash and approval cover it) and any integration measuring files (:func:`is_local`) ask here,
so the allow-list check, the shell that runs a step and the check that looked first can never
disagree about which machine they meant. The rule, first match wins:

* label ``transport: local`` / ``transport: ssh``;
* label ``local`` as a flag (``true``/``false``, ``yes``/``no``, ``1``/``0``);
* a machine target (``host``, or ``gpu``: a GPU node is read with nvidia-smi and its kernel log
  exactly like a host) with ``credentials`` → SSH (its credentials are the SSH key). Another kind's
  address is its *service* (``zk:2181``) and its credentials may be its own (a DB password), so
  they alone never mean SSH;
* an empty, loopback or own-hostname address → local; anything else → SSH, which then says what
  it lacks to log in.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from steadyops.core.errors import MissingExtra, Refused
from steadyops.core.inventory import Target, split_address
from steadyops.execution.access import SSH_PORT, HostAccess, LocalHost, Reads
from steadyops.execution.errors import HostAccessError
from steadyops.execution.logins import Logins

__all__ = ["EXEC_KEY", "SSH_LABELS", "exec_record", "host_for", "is_local", "ssh_missing"]

EXEC_KEY = "exec_target"  #: the plan param that says where the plan runs
SSH_LABELS = ("ssh_user", "ssh_port", "known_hosts", "ssh_timeout")  #: the labels that shape the login
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
#: kinds whose address is a machine to log into, so their credentials are the SSH key
MACHINE_KINDS = frozenset({"host", "gpu"})


def _is_own_address(host: str) -> bool:
    if host in {"", "localhost", socket.gethostname()}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_local(target: Target) -> bool:
    """Whether commands for ``target`` run on this machine rather than over SSH (the module's rule)."""
    transport = target.labels.get("transport", "").strip().lower()
    if transport in {"local", "ssh"}:
        return transport == "local"
    flag = target.labels.get("local", "").strip().lower()
    if flag in _TRUE or flag in _FALSE:
        return flag in _TRUE
    if target.kind in MACHINE_KINDS and target.credentials:
        return False
    try:
        host = split_address(target.address, SSH_PORT)[0]  # no address: this machine
    except ValueError:
        return False  # a malformed address is nobody's: SshSpec says what is wrong with it
    return _is_own_address(host)


def host_for(target: Target, reads: Reads, logins: Logins) -> HostAccess:
    """The read-only access a target gets, allowed exactly ``reads`` (the calling integration's list),
    logging in with ``logins`` (the App's, see :mod:`.logins`) when it is remote; raises
    ``HostAccessError`` when its SSH settings are unusable or SSH is not installed (extra ``ssh``)."""
    if is_local(target):
        return LocalHost(reads)
    try:
        from steadyops.execution.ssh import SshHost  # asyncssh is imported only when needed
    except MissingExtra as exc:  # UNKNOWN naming the extra, localised to the configuration
        raise HostAccessError(f"{target.name} is reached over SSH, and {exc}", layer="config",
                              source=f"ssh {target.address}") from None
    return SshHost.for_target(target, reads, logins)


def exec_record(target: Target) -> dict[str, Any]:
    """Where actions on ``target`` run, as the plan records it. A ``host``'s address is the SSH endpoint.
    Another kind's address is its service: SSH goes to that host on label ``ssh_port`` (22) with label
    ``ssh_credentials``, else ``credentials``."""
    view = target
    if target.kind != "host":
        try:
            host, port = split_address(target.address, SSH_PORT)[0], int(target.labels.get("ssh_port", SSH_PORT))
        except ValueError as exc:
            raise Refused(f"cannot tell how to reach {target.name}: {exc}") from None
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        view = Target(name=target.name, kind="host", address=address, labels=target.labels,
                      credentials=target.labels.get("ssh_credentials") or target.credentials)
    if is_local(target):
        return {"transport": "local"}
    return {"transport": "ssh", "name": view.name, "address": view.address, "credentials": view.credentials,
            "labels": {k: view.labels[k] for k in SSH_LABELS if k in view.labels}}


def ssh_missing() -> str:
    """"" when SSH to remote hosts is installed, else what to install (``steadyops plugins`` says it)."""
    try:
        import steadyops.execution.ssh  # noqa: F401  (asyncssh, the extra ssh)
    except MissingExtra as exc:
        return str(exc)
    return ""
