"""E-mail configuration rules."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from steadyops.integrations.email import EmailConfig


def test_ssl_and_starttls_are_exclusive() -> None:
    with pytest.raises(ValidationError, match="not both"):
        EmailConfig.model_validate({"host": "h", "from": "a@b", "to": ["c@d"], "ssl": True, "starttls": True})


@pytest.mark.parametrize(("extra", "port"), [({}, 25), ({"ssl": True}, 465), ({"starttls": True}, 587),
                                             ({"starttls": True, "port": 2525}, 2525)])
def test_the_port_follows_the_tls_mode(extra: dict[str, object], port: int) -> None:
    config = EmailConfig.model_validate({"host": "h", "from": "a@b", "to": ["c@d"], **extra})
    assert config.effective_port == port


def test_recipients_are_required() -> None:
    with pytest.raises(ValidationError):
        EmailConfig.model_validate({"host": "h", "from": "a@b", "to": []})
