"""Console: the notification as one line on the stream it is given (stderr in the CLI) and in the
structured log, for the embedded default and for routes that only want a record."""

from __future__ import annotations

from typing import Mapping, TextIO

from rich.console import Console
from rich.markup import escape

from lakesentinel.notify.config import ConsoleConfig
from lakesentinel.notify.notification import Notification
from lakesentinel.notify.receiver import Outcome
from lakesentinel.actions.render import change_line, headline
from lakesentinel.logs import get_logger

log = get_logger(__name__)


class ConsoleReceiver:
    def __init__(self, integration: str, config: ConsoleConfig, *, stream: TextIO | Console):
        """``stream``: a text stream, or a rich Console (so a live display on it stays in place)."""
        self.integration = integration
        self.config = config
        self.console = stream if isinstance(stream, Console) else Console(file=stream, highlight=False,
                                                                          soft_wrap=True)

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
