"""GPU targets over SSH through the host integration's access layer (a real sshd on loopback).

No GPU and no NVIDIA driver here: what the test proves is the path — nvidia-smi and the kernel log
are asked over SSH with the host integration's allow-list and key handling, and "no driver on that
machine" is a configuration finding naming the remote host, never OK.
"""

from __future__ import annotations

import pytest

from steadyops.core.models import CheckStatus
from steadyops.integrations.gpu import checks_health, checks_node
from steadyops.integrations.gpu.source import GpuMemory
from tests.harness.sshd import SshServer

pytestmark = pytest.mark.integration


async def test_gpu_checks_over_ssh(sshd: SshServer) -> None:
    target = sshd.target("gpu-box", known_hosts=str(sshd.known_hosts_file())).model_copy(update={"kind": "gpu"})
    result = await checks_health.EccCheck().run(target)
    assert result.status is CheckStatus.UNKNOWN and result.layer == "config"
    assert f"nvidia-smi is not installed on {sshd.user}@127.0.0.1:{sshd.port}" in result.summary
    _events, uptime, where = await GpuMemory().read_kernel_xids(target)  # the real kernel log, read over SSH
    assert where.endswith(f"@ {sshd.user}@127.0.0.1:{sshd.port}") and uptime is not None and uptime > 0
    xid = await checks_node.XidCheck().run(target)
    assert xid.status in (CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL)  # this machine's own log
    assert xid.evidence and where in xid.evidence[0].source
