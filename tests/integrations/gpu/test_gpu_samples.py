"""GPU parsers and checks on real, unmodified output (see samples/README.md for each file's source).

No GPU exists on the test machines, so faults are made by changing the parsed state of a real
sample (never the sample file) and judging it with the real check.
"""

from __future__ import annotations

import dataclasses
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from steadyops.core.inventory import Target
from steadyops.core.models import CheckStatus
from steadyops.integrations.gpu import checks_health as health
from steadyops.integrations.gpu import checks_node as node_checks
from steadyops.integrations.gpu.dcgm import parse_dcgm_metrics
from steadyops.integrations.gpu.model import NodeGpus
from steadyops.integrations.gpu.smi import parse_smi_xml
from steadyops.integrations.gpu.source import GpuMemory
from steadyops.integrations.gpu.xid import describe, parse_kernel_log, recent
from steadyops.sources.exposition import parse_exposition

SAMPLES = Path(__file__).parent / "samples"
OK, WARN, CRIT, UNKNOWN = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL, CheckStatus.UNKNOWN


def smi(name: str) -> NodeGpus:
    return parse_smi_xml((SAMPLES / name).read_text())


def target(**labels: str) -> Target:
    return Target(name="gpu-node-1", kind="gpu", address="127.0.0.1", labels=labels)


def test_smi_a100_v12_schema() -> None:
    node = smi("nvidia-smi-a100-sxm4-v12.xml")
    assert (node.driver, node.cuda, node.attached, node.errors) == ("535.54.03", "12.2", 4, [])
    gpu = node.gpus[0]
    assert gpu.name == "NVIDIA A100-SXM4-80GB" and gpu.bus_id == "00000000:01:00.0" and gpu.mig
    assert (gpu.temp_c, gpu.temp_slowdown_c, gpu.temp_shutdown_c) == (27.0, 89.0, 92.0)
    assert (gpu.power_w, gpu.power_limit_w) == (67.03, 500.0)  # gpu_power_readings (535+)
    assert (gpu.mem_used_mib, gpu.mem_total_mib) == (50.0, 81920.0)
    assert gpu.util_pct is None  # MIG mode: N/A, never read as 0
    assert (gpu.ecc_enabled, gpu.ecc_dbe_volatile, gpu.ecc_sbe_volatile) == (True, 0.0, 0.0)
    assert gpu.remap_pending is None and gpu.retired_dbe is None  # "N/A" stays unknown
    assert gpu.throttle == [] and gpu.reset_required is False


def test_smi_t4_v11_schema() -> None:
    node = smi("nvidia-smi-tesla-t4-v11.xml")
    assert (node.driver, node.cuda) == ("515.105.01", "11.7")
    gpu = node.gpus[0]
    assert (gpu.power_w, gpu.power_limit_w) == (26.78, 70.0)  # older power_readings
    assert (gpu.util_pct, gpu.retired_sbe, gpu.retired_dbe, gpu.retired_pending) == (0.0, 0.0, 0.0, False)
    assert [(p.pid, p.name, p.used_mib) for p in gpu.processes] == [(675, "/usr/lib/xorg/Xorg", 22.0),
                                                                    (5762, "python", 1005.0)]


def test_smi_without_a_gpu_is_the_fell_off_the_bus_evidence() -> None:
    text = "Unable to determine the device handle for GPU 0000:3B:00.0: Unknown Error\n"
    node = parse_smi_xml(text)
    assert node.gpus == [] and node.errors == [text.strip()]


def test_dcgm_exporter_sample() -> None:
    node = parse_dcgm_metrics((SAMPLES / "dcgm-exporter-grid-a100-8c.prom").read_text())
    assert node.driver == "580.65.06" and len(node.gpus) == 1
    gpu = node.gpus[0]
    assert gpu.name == "GRID A100-8C" and gpu.uuid.startswith("GPU-f809e614")
    assert (gpu.util_pct, gpu.mem_used_mib, gpu.mem_total_mib, gpu.sm_clock_mhz, gpu.xid_last) == (
        0.0, 0.0, 7531.0, 1410.0, 0)
    assert gpu.temp_c is None  # not exported by this counters file: unknown, not 0


def test_dcgm_counters_keep_the_exporter_names() -> None:
    """DCGM declares its *_TOTAL fields as counters without the ``_total`` suffix; the samples must
    keep that spelling, the one ``dcgm.FIELDS`` and ``NVLINK_FIELDS`` look up (ECC, NVLink errors)."""
    text = (SAMPLES / "dcgm-exporter-grid-a100-8c.prom").read_text()
    names = {s.name for s in parse_exposition(text)}
    assert "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL" in names
    assert not {n for n in names if n.endswith("_total")}


@pytest.mark.parametrize(("name", "codes"), [
    ("xid-gpud-pr46-dmesg-ctime.log", [13, 13, 13, 109]),
    ("xid-dxvk-1027-dmesg.log", [31, 13, 13, 13, 13, 32]),
    ("xid-open-gpu-kernel-modules-363.log", [31, 31]),
    ("xid-open-gpu-kernel-modules-1150-journal.log", [45] * 7),
    ("xid-gpud-pr1174-kmsg.log", [149, 149, 145, 94]),
    ("xid-nvidia-forum-xid62.log", [62, 154]),
    ("fallen-off-bus-nvsentinel-155.log", [79]),
])
def test_kernel_log_xids(name: str, codes: list[int]) -> None:
    assert [e.code for e in parse_kernel_log((SAMPLES / name).read_text())] == codes


def test_xid_meanings_and_blame() -> None:
    assert describe(79).blame == "hardware" and describe(79).status is CRIT
    assert describe(13).blame == "app" and describe(31).blame == "app"
    assert describe(48).status is CRIT and describe(94).status is WARN and describe(95).status is CRIT
    assert describe(74).blame == "nvlink" and describe(63).status is WARN and describe(64).status is CRIT
    assert describe(4242).blame == "unknown" and describe(4242).status is WARN  # never ignored


def test_xid_verdicts_on_real_lines() -> None:
    app = node_checks.judge_xids(parse_kernel_log((SAMPLES / "xid-open-gpu-kernel-modules-363.log").read_text()), "k")
    assert app.status is WARN and app.layer == "process" and "chrome, pid 169800" in app.evidence[0].detail
    bus = node_checks.judge_xids(parse_kernel_log((SAMPLES / "fallen-off-bus-nvsentinel-155.log").read_text()), "k")
    assert bus.status is CRIT and bus.layer == "hardware" and bus.labels["xid"] == "79"
    ecc = node_checks.judge_xids(parse_kernel_log((SAMPLES / "xid-gpud-pr1174-kmsg.log").read_text()), "k")
    assert ecc.status is CRIT and ecc.labels["xid"] == "149"  # fatal NVLink outranks the contained ECC (94)
    follow = node_checks.judge_xids(
        parse_kernel_log((SAMPLES / "xid-open-gpu-kernel-modules-1150-journal.log").read_text()), "k")
    assert follow.status is OK  # Xid 45 alone is cleanup after another error


def test_only_recent_xids_count() -> None:
    events = parse_kernel_log((SAMPLES / "xid-dxvk-1027-dmesg.log").read_text())
    assert [e.code for e in recent(events, now_uptime_s=31609.7 + 60, window_s=120)] == [13, 13, 13, 13, 32]
    assert recent(events, now_uptime_s=99999.0, window_s=3600) == []


async def test_health_checks_healthy_on_real_samples() -> None:
    for sample in ("nvidia-smi-a100-sxm4-v12.xml", "nvidia-smi-tesla-t4-v11.xml"):
        node = smi(sample)
        for check in health.CHECKS:
            result = await check().judge(target(), node)
            assert result.status is OK, (sample, check.name, result.summary)
        bus = await node_checks.BusCheck().judge(target(), node)
        assert bus.status is OK


async def test_faults_on_real_state() -> None:
    base = smi("nvidia-smi-a100-sxm4-v12.xml").gpus[0]

    def node_with(**changes: object) -> NodeGpus:
        return NodeGpus(source="nvidia-smi -q -x", driver="535.54.03", gpus=[dataclasses.replace(base, **changes)])

    ecc = await health.EccCheck().judge(target(), node_with(ecc_dbe_volatile=2.0))
    assert ecc.status is CRIT and ecc.labels["gpu"] == "1" and ecc.layer == "hardware"
    pending = await health.EccCheck().judge(target(), node_with(remap_pending=True))
    assert pending.status is WARN and "pending" in pending.summary
    hot = await health.ThermalCheck().judge(target(), node_with(temp_c=91.0, throttle=["sw_thermal_slowdown"]))
    assert hot.status is CRIT and "sw_thermal_slowdown" in hot.summary
    warm = await health.ThermalCheck().judge(target(), node_with(temp_c=85.0))
    assert warm.status is WARN
    full = await health.MemoryCheck().judge(target(), node_with(mem_used_mib=81700.0))
    assert full.status is CRIT and full.layer == "capacity"
    capped = await health.PowerCheck().judge(target(), node_with(power_w=499.0, throttle=["sw_power_cap"]))
    assert capped.status is WARN
    t = target()
    memory = GpuMemory()  # what the registry would share between one check run and the next
    hung = node_with(util_pct=100.0, power_w=80.0)
    assert (await health.HungCheck(memory).judge(t, hung)).status is WARN
    assert (await health.HungCheck(memory).judge(t, hung)).status is CRIT  # still stuck at the next check
    assert (await health.HungCheck().judge(t, hung)).status is WARN  # another registry's memory: the first sighting
    busy = node_with(util_pct=100.0, power_w=450.0)  # busy and working hard: fine
    assert (await health.HungCheck(memory).judge(t, busy)).status is OK


async def test_bus_check_counts_expected_gpus() -> None:
    node = smi("nvidia-smi-tesla-t4-v11.xml")
    result = await node_checks.BusCheck().judge(target(expected_gpus="2"), node)
    assert result.status is CRIT and "1 of 2 expected GPUs" in result.summary
    lost = parse_smi_xml("Unable to determine the device handle for GPU 0000:3B:00.0: Unknown Error")
    assert (await node_checks.BusCheck().judge(target(), lost)).status is CRIT


def test_driver_mismatch_across_real_nodes() -> None:
    nodes = {"a100": smi("nvidia-smi-a100-sxm4-v12.xml"), "t4": smi("nvidia-smi-tesla-t4-v11.xml")}
    status, summary, _evidence = node_checks.driver_mismatch(nodes)
    assert status is WARN and "515.105.01, 535.54.03" in summary and "11.7, 12.2" in summary
    same = {"a": nodes["a100"], "b": smi("nvidia-smi-a100-sxm4-v12.xml")}
    assert node_checks.driver_mismatch(same)[0] is OK
    assert node_checks.driver_mismatch(same, expected_driver="550.54.15")[0] is WARN


async def test_nvidia_smi_missing_is_a_config_finding() -> None:
    t = target(transport="local")
    result = await health.EccCheck().run(t)
    assert result.status is UNKNOWN and result.layer == "config" and "nvidia-smi is not installed" in result.summary


async def test_nvml_source_without_the_extra_names_it() -> None:
    t = target(source="nvml")
    result = await health.MemoryCheck().run(t)
    assert result.status is UNKNOWN and result.layer == "config"
    assert "steadyops[gpu]" in result.summary or "NVML could not start" in result.summary


@pytest.fixture
def dcgm_server() -> Iterator[str]:
    body = (SAMPLES / "dcgm-exporter-grid-a100-8c.prom").read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_dcgm_source_over_http(dcgm_server: str) -> None:
    t = Target(name="dcgm-node", kind="gpu", address=dcgm_server, labels={"source": "dcgm"})
    for check in (health.MemoryCheck, health.HungCheck, node_checks.XidCheck, node_checks.BusCheck):
        result = await check().run(t)
        assert result.status is OK, (check.name, result.summary)
    dead = Target(name="dcgm-dead", kind="gpu", address="127.0.0.1:9", labels={"source": "dcgm"})
    result = await health.MemoryCheck().run(dead)
    assert result.status is UNKNOWN and result.layer == "network"
