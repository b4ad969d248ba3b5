"""MySQL / MariaDB parsers and verdicts on answers captured from a real MariaDB 10.11 (see data/):

- ``innodb_status_deadlock.txt``: SHOW ENGINE INNODB STATUS right after two transactions deadlocked
- ``mariadb_all_slaves_status_io_connecting.json``: SHOW ALL SLAVES STATUS of a replica whose source is down
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pymysql

from steadyops.core.credentials import CredentialError
from steadyops.core.inventory import Target, split_address
from steadyops.core.models import CheckStatus
from steadyops.integrations.mysql.checks import (
    ConnectionsCheck,
    DeadlocksCheck,
    ReplicationCheck,
    SlowQueriesCheck,
)
from steadyops.integrations.mysql.client import DEFAULT_PORT, describe_error
from steadyops.integrations.mysql.parse import deadlock_digest, latest_deadlock, replica_state

DATA = Path(__file__).parent / "data"
OK, WARN, CRIT = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL


def target(name: str = "db1", **labels: str) -> Target:
    return Target(name=name, kind="mysql", address="10.0.0.8", labels=labels)


def replica_row() -> dict[str, Any]:
    row: dict[str, Any] = json.loads((DATA / "mariadb_all_slaves_status_io_connecting.json").read_text())
    return row


def test_latest_deadlock_section_and_digest() -> None:
    found = latest_deadlock((DATA / "innodb_status_deadlock.txt").read_text())
    assert found is not None and found.at is not None and found.at.year >= 2024
    digest = deadlock_digest(found)
    assert "UPDATE t.x SET v=2 WHERE id=1" in digest and "WE ROLL BACK TRANSACTION (1)" in digest
    assert "TRANSACTIONS" not in found.text  # the section ends where the next one starts
    assert latest_deadlock("=====\nBACKGROUND THREAD\n-----\nsrv_master_thread loops\n") is None


def test_replica_state_reads_both_vocabularies() -> None:
    maria = replica_state(replica_row())
    assert (maria.io_running, maria.sql_running, maria.seconds_behind) == ("Connecting", "Yes", None)
    assert maria.source.startswith("127.0.0.1:") and "Connection refused" in maria.last_io_error
    mysql8 = replica_state({"Channel_Name": "", "Source_Host": "db0", "Source_Port": 3306, "Replica_IO_Running": "Yes",
                            "Replica_SQL_Running": "Yes", "Seconds_Behind_Source": 42})
    assert mysql8.io_ok and mysql8.sql_ok and mysql8.seconds_behind == 42 and mysql8.source == "db0:3306"


def test_replication_verdicts() -> None:
    check = ReplicationCheck()
    down = check.judge(target(), {"query": "SHOW ALL SLAVES STATUS", "rows": [replica_row()]})
    assert down.status is CRIT and down.layer == "replication" and "IO=Connecting" in down.summary
    lagging = {"Master_Host": "db0", "Master_Port": 3306, "Slave_IO_Running": "Yes", "Slave_SQL_Running": "Yes",
               "Seconds_Behind_Master": 120}
    assert check.judge(target(), {"query": "q", "rows": [lagging]}).status is WARN
    assert check.judge(target(), {"query": "q", "rows": []}).status is OK
    assert check.judge(target(expect_replica="true"), {"query": "q", "rows": []}).status is CRIT


def test_connections_percentage_and_refusals() -> None:
    check = ConnectionsCheck()

    def answer(connected: int, refused: int, uptime: int) -> dict[str, Any]:
        return {"status": {"Threads_connected": str(connected), "Connection_errors_max_connections": str(refused),
                           "Uptime": str(uptime)}, "vars": {"max_connections": "100"}}

    assert check.judge(target("c1"), answer(50, 0, 1000)).status is OK
    assert check.judge(target("c1"), answer(85, 0, 1060)).status is WARN
    refused = check.judge(target("c1"), answer(40, 7, 1120))
    assert refused.status is CRIT and "7 connections refused (max_connections) since the last check" in refused.summary
    history = check.judge(target("c2"), answer(40, 7, 5000))  # first look: refusals long ago
    assert history.status is WARN and "since start" in history.summary


def test_slow_queries_rate_uses_uptime_when_there_is_no_previous_sample() -> None:
    answer = {"status": {"Slow_queries": "600", "Uptime": "3600"}, "vars": {"long_query_time": "1.000000"}}
    result = SlowQueriesCheck().judge(target("s1"), answer)
    assert result.status is WARN and result.metrics["slow_per_min"] == 10 and "slower than 1s" in result.summary


def test_deadlock_verdict_from_innodb_status_on_first_look() -> None:
    text = (DATA / "innodb_status_deadlock.txt").read_text()
    found = latest_deadlock(text)
    assert found is not None and found.at is not None
    recent = {"status": {"Innodb_deadlocks": "1", "Uptime": "30"}, "now": found.at + timedelta(seconds=20),
              "innodb": text}
    result = DeadlocksCheck().judge(target("d1"), recent)
    assert result.status is WARN and result.layer == "process" and "20s ago" in result.summary
    old = {**recent, "now": found.at + timedelta(hours=5)}
    assert DeadlocksCheck().judge(target("d2"), old).status is OK
    none = {"status": {"Innodb_deadlocks": "0", "Uptime": "30"}, "now": datetime.now(), "innodb": ""}
    assert DeadlocksCheck().judge(target("d3"), none).status is OK


def test_connect_errors_are_located() -> None:
    too_many = describe_error(pymysql.err.OperationalError(1040, "Too many connections"))
    assert too_many is not None and (too_many.layer, too_many.answered) == ("capacity", True)
    refused = describe_error(pymysql.err.OperationalError(
        2003, "Can't connect to MySQL server on '127.0.0.1' ([Errno 111] Connection refused)"))
    assert refused is not None and (refused.layer, refused.answered) == ("process", True)
    denied = describe_error(pymysql.err.OperationalError(1045, "Access denied for user 'x'@'localhost'"))
    assert denied is not None and (denied.layer, denied.answered) == ("config", False)
    assert describe_error(CredentialError("env:X is not set")) is not None
    assert describe_error(ValueError("a bug")) is None
    assert split_address("db:3307", DEFAULT_PORT) == ("db", 3307) and split_address("db", DEFAULT_PORT) == ("db", 3306)
