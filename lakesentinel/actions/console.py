"""Console: the notification as one line on stderr (and in the structured log), for the embedded
default and for routes that only want a record."""

from __future__ import annotations

from typing import Mapping

from rich.markup import escape

from lakesentinel.actions.config import ConsoleConfig
from lakesentinel.actions.notification import Notification
from lakesentinel.actions.receiver import Outcome
from lakesentinel.actions.render import change_line, headline
from lakesentinel.logs import get_logger

log = get_logger(__name__)


class ConsoleReceiver:
    def __init__(self, integration: str, config: ConsoleConfig, *, console=None):
        from lakesentinel.cli.common import console as default_console

        self.integration = integration
        self.config = config
        self.console = console or default_console

    def notify(self, n: Notification, refs: Mapping[str, str]) -> Outcome:
        if n.reason == "resolved" and not self.config.send_resolved:
            return Outcome.delivered(refs)
        ids = ", ".join(n.incident_ids)
        # Titles come from rules and data: escaped, so a "[" in them is text, not rich markup.
        self.console.print(f"[bold]{escape(headline(n))}[/] {escape(change_line(n)) if n.seq > 1 else ''}"
                           f"(incidents: {ids})", highlight=False)
        log.info("notification", extra={"integration": self.integration, "idempotency_key": n.idempotency_key,
                                         "reason": n.reason, "incidents": n.incident_ids})
        return Outcome.delivered(refs)

    def find_delivered(self, n: Notification, refs: Mapping[str, str]) -> Outcome | None:
        return None
