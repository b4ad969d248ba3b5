"""The server's errors in the CLI's language.

The API answers a refused request with ``{"error": "<NotFound|Conflict|Refused|…>", "detail": "…"}``
(the error class is the code, the detail is English for logs and other clients). The CLI renders
the code and the well-known details through the message catalogue, so ``steadyops --lang zh`` does
not print "incident 99999 does not exist"; a detail it does not know is shown as the server said it,
after a localised description of the code.
"""

from __future__ import annotations

import re
from typing import Any

from steadyops.core.i18n import MESSAGES, Lang, t

#: (error code or "*", pattern on the detail, message key); named groups become the parameters
_KNOWN: list[tuple[str, re.Pattern[str], str]] = [
    ("NotFound", re.compile(r"^(?P<what>incident|action run|change|inspection run|silence) (?P<id>\S+) does not "
                            r"exist$"), "apierr.not_found"),
    ("NotFound", re.compile(r"^target (?P<target>.+) is not in the inventory$"), "apierr.unknown_target"),
    ("Conflict", re.compile(r"^incident (?P<id>\S+) is already resolved$"), "apierr.already_resolved"),
    ("Conflict", re.compile(r"^silence (?P<id>\S+) has expired; create a new one instead$"), "apierr.silence_expired"),
    ("Refused", re.compile(r"^needs (?P<need>\d+) approval\(s\) from distinct approvers, has (?P<got>\d+) valid"),
     "apierr.needs_approvals"),
    ("Refused", re.compile(r"^no approval policy covers action (?P<action>\S+) \(risk (?P<risk>\w+)\) on target "
                           r"(?P<target>.+); default deny$"), "apierr.no_policy"),
    ("Refused", re.compile(r"^(?P<who>.+) requested this action and cannot approve it too$"), "apierr.own_request"),
    ("Refused", re.compile(r"^(?P<who>.+) is not an approver for this action \(approvers: (?P<approvers>.*)\)$"),
     "apierr.not_approver"),
    ("Refused", re.compile(r"^path (?P<path>'.*') is outside the allow-list \((?P<roots>.*)\)$"),
     "apierr.outside_allowlist"),
    ("Refused", re.compile(r"^run (?P<id>\d+) is (?P<status>\w+); (nothing to decide|it cannot be applied)$"),
     "apierr.run_state"),
    ("Refused", re.compile(r"^the plan changed since it was approved"), "apierr.plan_changed"),
]


def render(status: int, body: Any, lang: Lang) -> str:
    """One line for a 4xx/5xx answer: the known message in ``lang``, else the code's meaning + the detail."""
    code = body.get("error", "") if isinstance(body, dict) else ""
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, str):
        for want, pattern, key in _KNOWN:
            m = pattern.match(detail)
            if m and want in (code, "*"):
                params = {k: v for k, v in m.groupdict().items() if v is not None}
                if "what" in params:
                    params["what"] = t(f"apierr.what.{params['what'].replace(' ', '_')}", lang)
                if "status" in params and f"act.state.{params['status']}" in MESSAGES:
                    params["status"] = t(f"act.state.{params['status']}", lang)
                return t(key, lang, **params) + f" (HTTP {status})"
    elif isinstance(detail, list):  # FastAPI's request validation: [{loc, msg, …}]
        detail = "; ".join(f"{'.'.join(str(p) for p in d.get('loc', [])[1:])}: {d.get('msg', '')}"
                           for d in detail if isinstance(d, dict))
    key = f"apierr.code.{code}" if f"apierr.code.{code}" in MESSAGES else f"apierr.status.{status // 100}xx"
    return f"{t(key, lang)} (HTTP {status}): {detail}"
