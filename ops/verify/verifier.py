"""One verification run: the checks in order, skips where a check cannot run, the WebSocket failures explained together.

A check stopped by a bound (its deadline or a byte cap) ends the run: the checks after it are
skipped, so a hung or hostile server costs one --timeout, not one per check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ops.verify import advice
from ops.verify.advice import Failed
from ops.verify.options import Options
from ops.verify.protocol import EngineIOTransport
from ops.verify.report import Check, CheckName, Report
from ops.verify.steps import Checks, summary
from ops.verify.transport import Transport

AFTER_HANDSHAKE = (CheckName.POLLING, CheckName.WS_UPGRADE, CheckName.WS_ONLY, CheckName.HOLD)


class RunEnded(Exception):
    """A check was stopped by a bound: the run reports it and skips the rest."""

    def __init__(self, check: CheckName) -> None:
        super().__init__(check)
        self.check = check


class Verifier:
    def __init__(self, options: Options) -> None:
        options.validate()
        self.options = options
        self.report = Report(options.url)
        self.transport = Transport(options, self.report.pods)
        self.checks = Checks(options, self.transport)

    def url(self, transport: EngineIOTransport | str, sid: str | None = None) -> str:
        """The Engine.IO URL a request of `transport` goes to (what an uptime check must probe too)."""
        return self.transport.url(transport, sid)

    def _run(self, name: CheckName, step: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any] | None:
        start = time.perf_counter()
        try:
            data = step(*args)
        except Failed as failure:
            check = Check(name, False, failure.detail, (time.perf_counter() - start) * 1000, failure.layer, failure.diagnosis, failure.data)
            self.report.checks.append(check)
            if failure.ends_run:
                raise RunEnded(name) from None
            return None
        self.report.checks.append(Check(name, True, summary(name, data), (time.perf_counter() - start) * 1000, data=data))
        return data

    def run(self) -> Report:
        start = time.perf_counter()
        try:
            self._checks()
        except RunEnded as ended:
            done = {c.name for c in self.report.checks}
            self.report.checks.extend(Check(name, None, f"not run: {ended.check} exceeded a bound (see above)") for name in CheckName if name not in done)
        finally:
            if self.checks.upgraded is not None:
                self.checks.upgraded.close()
            self.transport.close()
            self.report.elapsed_s = time.perf_counter() - start
        return self.report

    def _checks(self) -> None:
        """Every check in order, each result appended to the report (RunEnded once a bound stopped one)."""
        opened = self._run(CheckName.HANDSHAKE, self.checks.handshake)
        if opened is None:
            self.report.checks.extend(Check(name, None, "not run: the handshake failed") for name in AFTER_HANDSHAKE)
            return
        self._run(CheckName.POLLING, self.checks.polling, opened["sid"])
        upgraded = self._run(CheckName.WS_UPGRADE, self.checks.ws_upgrade, opened["sid"])
        only = self._run(CheckName.WS_ONLY, self.checks.ws_only)
        self._explain_websocket(upgraded is not None, only is not None)
        if self.options.hold <= 0:
            self.report.checks.append(Check(CheckName.HOLD, None, "not requested (--hold SECONDS proves sockets outlive a timeout)"))
        elif upgraded is None:
            self.report.checks.append(Check(CheckName.HOLD, None, "not run: the upgrade failed"))
        else:
            self._run(CheckName.HOLD, self.checks.hold)

    def _explain_websocket(self, upgrade_ok: bool, only_ok: bool) -> None:
        """A WebSocket that did not open fails in a layer only the pair of WebSocket checks tells apart."""
        upgrade, only = self.report.check(CheckName.WS_UPGRADE), self.report.check(CheckName.WS_ONLY)
        if not upgrade_ok and upgrade.layer is None:
            upgrade.layer, upgrade.diagnosis = advice.upgrade_layer(websocket_only_ok=only_ok)
        if not only_ok and only.layer is None:
            only.layer, only.diagnosis = advice.WEBSOCKET_ONLY_FAILURE


def verify(options: Options) -> Report:
    return Verifier(options).run()
