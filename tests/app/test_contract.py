"""The published OpenAPI contract is the app's: regenerate it with ``lakesentinel app openapi``."""

from __future__ import annotations

import json

from lakesentinel.cli.app import CONTRACT, contract


def test_the_published_contract_matches_the_app():
    published = json.loads(CONTRACT.read_text())
    assert published == json.loads(json.dumps(contract())), "run `lakesentinel app openapi` and commit the result"


def test_the_contract_covers_every_page_and_action():
    paths = json.loads(CONTRACT.read_text())["paths"]
    for path in ("/api/overview", "/api/domains/{domain}", "/api/incidents", "/api/incidents/{incident_id}/ack",
                 "/api/incidents/{incident_id}/resolve", "/api/incidents/{incident_id}/renotify", "/api/silences",
                 "/api/silences/preview", "/api/review/trends", "/api/chat"):
        assert path in paths, path
