"""Console receiver: one readable line per notification, whatever the titles contain."""

from io import StringIO

from lakesentinel.notify.config import ConsoleConfig
from lakesentinel.actions.console import ConsoleReceiver
from tests.fakes.notifications import incident, notification


def test_titles_are_text_not_markup():
    out = StringIO()
    r = ConsoleReceiver("c/console", ConsoleConfig(), stream=out)
    title = "odd [/red] title [bold]x"
    assert r.notify(notification(1, incidents=[incident(1, title=title)]), {}).status == "delivered"
    assert r.notify(notification(2, "update"), {}).status == "delivered"
    lines = out.getvalue().splitlines()
    assert f"[FIRING:1] {title}" in lines[0] and "(incidents: inc0001)" in lines[0]
    assert "Updated: 1 firing, 0 resolved." in lines[1]


def test_resolved_is_skipped_when_not_wanted():
    out = StringIO()
    r = ConsoleReceiver("c/console", ConsoleConfig(send_resolved=False), stream=out)
    assert r.notify(notification(3, "resolved"), {"x": "y"}).refs == {"x": "y"}
    assert out.getvalue() == ""
