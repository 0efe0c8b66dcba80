"""A fake Jira REST API (v2 and v3 paths): serverInfo, search by JQL (Cloud's ``search/jql`` and the
older ``search``), create and get issue, comments, transitions.

JQL is the small subset the receiver writes: clauses joined by AND, each ``field = value``,
``field != value`` or ``field in (a, b)``, over project, labels, status and statusCategory.
"""

from __future__ import annotations

import base64
import re

from tests.fakes.server import FakeServer, Reply, Request

_CLAUSE = re.compile(r'^\s*(\w+)\s*(=|!=|in|not in)\s*(.+?)\s*$', re.I)


class FakeJira(FakeServer):
    def __init__(self, *, user: str = "bot@example.com", token: str = "jira-api-token-fake", cloud: bool = True):
        super().__init__()
        self.user, self.token, self.cloud = user, token, cloud
        self.issues: dict[str, dict] = {}  # key -> {"fields": {...}, "comments": [...], "status": str}
        self._numbers: dict[str, int] = {}

    def error_body(self, status: int) -> dict:
        return {"errorMessages": [f"fake jira: http {status}"], "errors": {}}

    def _authorised(self, req: Request) -> bool:
        auth = req.headers.get("authorization", "")
        basic = "Basic " + base64.b64encode(f"{self.user}:{self.token}".encode()).decode()
        return auth in (basic, f"Bearer {self.token}")

    def handle(self, req: Request) -> Reply:
        if not self._authorised(req):
            return Reply(401, {"errorMessages": ["You are not authenticated."], "errors": {}})
        m = re.match(r"^/rest/api/(2|3)/(.*)$", req.path)
        if not m:
            return Reply(404, {"errorMessages": ["no such resource"], "errors": {}})
        version, rest = m.group(1), m.group(2).rstrip("/")
        if rest == "serverInfo":
            return Reply(200, self._server_info())
        if rest == "field":
            return Reply(200, [{"id": f, "key": f, "name": f.title(), "custom": False, "navigable": True,
                                "searchable": True, "clauseNames": [f], "schema": {"type": "string", "system": f}}
                               for f in ("summary", "description", "labels", "priority", "issuetype", "project",
                                         "status", "comment")])
        if rest in ("search", "search/jql"):
            args = {k: v[0] for k, v in req.query.items()}
            if req.method == "POST":
                args.update(req.json())
            return self._search(args, cloud_api=rest == "search/jql")
        if rest == "issue" and req.method == "POST":
            return self._create(req.json(), version)
        parts = rest.split("/")
        if parts[0] == "issue" and len(parts) >= 2:
            issue = self.issues.get(parts[1])
            if issue is None:
                return Reply(404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."],
                                   "errors": {}})
            sub = parts[2] if len(parts) > 2 else ""
            if sub == "" and req.method == "GET":
                return Reply(200, self._issue_json(parts[1], version))
            if sub == "comment" and req.method == "POST":
                return self._comment(parts[1], req.json(), version)
            if sub == "comment":
                comments = issue["comments"]
                return Reply(200, {"startAt": 0, "maxResults": 5000, "total": len(comments), "comments": comments})
            if sub == "transitions" and req.method == "GET":
                return Reply(200, {"expand": "transitions", "transitions": self._transitions(issue)})
            if sub == "transitions" and req.method == "POST":
                return self._transition(issue, req.json())
        return Reply(404, {"errorMessages": [f"fake jira: {req.method} {req.path} not implemented"], "errors": {}})

    # ---- resources ---------------------------------------------------------------------------
    def _server_info(self) -> dict:
        if self.cloud:
            return {"baseUrl": self.url, "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0],
                    "deploymentType": "Cloud", "buildNumber": 100280, "serverTitle": "Jira"}
        return {"baseUrl": self.url, "version": "9.12.0", "versionNumbers": [9, 12, 0],
                "deploymentType": "Server", "buildNumber": 9120000, "serverTitle": "Jira"}

    def _create(self, body: dict, version: str) -> Reply:
        fields = body.get("fields", {})
        missing = [f for f in ("project", "summary", "issuetype") if f not in fields]
        if missing:
            return Reply(400, {"errorMessages": [], "errors": {f: f"{f} is required." for f in missing}})
        project = fields["project"].get("key")
        self._numbers[project] = self._numbers.get(project, 0) + 1  # Jira never reuses a key
        key = f"{project}-{self._numbers[project]}"
        self.issues[key] = {"id": str(10000 + len(self.issues) + 1), "fields": fields, "comments": [],
                            "status": "To Do"}
        return Reply(201, {"id": self.issues[key]["id"], "key": key, "self": f"{self.url}/rest/api/{version}/issue/{key}"})

    def _issue_json(self, key: str, version: str) -> dict:
        issue = self.issues[key]
        category = "done" if issue["status"] == "Done" else "new"
        fields = dict(issue["fields"])
        fields["status"] = {"name": issue["status"], "statusCategory": {"key": category, "name": category.title()}}
        fields["labels"] = list(issue["fields"].get("labels", []))
        fields["comment"] = {"comments": issue["comments"], "total": len(issue["comments"])}
        return {"id": issue["id"], "key": key, "self": f"{self.url}/rest/api/{version}/issue/{key}", "fields": fields}

    def _comment(self, key: str, body: dict, version: str) -> Reply:
        issue = self.issues[key]
        comment = {"id": str(20000 + sum(len(i["comments"]) for i in self.issues.values()) + 1),
                   "body": body.get("body", ""), "author": {"displayName": "lakesentinel"},
                   "self": f"{self.url}/rest/api/{version}/issue/{key}/comment"}
        issue["comments"].append(comment)
        return Reply(201, comment)

    @staticmethod
    def _transitions(issue: dict) -> list[dict]:
        if issue["status"] == "Done":
            return [{"id": "11", "name": "Reopen", "to": {"name": "To Do", "statusCategory": {"key": "new"}}}]
        return [{"id": "21", "name": "In Progress", "to": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}}},
                {"id": "31", "name": "Done", "to": {"name": "Done", "statusCategory": {"key": "done"}}}]

    def _transition(self, issue: dict, body: dict) -> Reply:
        wanted = str(body.get("transition", {}).get("id"))
        for t in self._transitions(issue):
            if t["id"] == wanted:
                issue["status"] = t["to"]["name"]
                return Reply(204, b"")
        return Reply(400, {"errorMessages": [f"Transition id '{wanted}' is not valid for this issue."], "errors": {}})

    def _search(self, args: dict, cloud_api: bool) -> Reply:
        try:
            keys = [k for k in self.issues if self._matches(k, args.get("jql", ""))]
        except ValueError as exc:
            return Reply(400, {"errorMessages": [str(exc)], "errors": {}})
        issues = [self._issue_json(k, "2") for k in keys]
        if cloud_api:
            return Reply(200, {"issues": issues, "isLast": True})
        return Reply(200, {"startAt": 0, "maxResults": 50, "total": len(issues), "issues": issues})

    def _matches(self, key: str, jql: str) -> bool:
        issue = self.issues[key]
        values = {"project": [key.split("-")[0]], "labels": issue["fields"].get("labels", []),
                  "status": [issue["status"]], "statuscategory": ["Done" if issue["status"] == "Done" else "To Do"],
                  "key": [key]}
        jql = re.sub(r"\s+order\s+by\s+.*$", "", jql, flags=re.I)
        for clause in re.split(r"\s+AND\s+", jql, flags=re.I):
            m = _CLAUSE.match(clause)
            if not m or m.group(1).lower() not in values:
                raise ValueError(f"fake jira cannot parse JQL clause {clause!r}")
            field, op, raw = m.group(1).lower(), m.group(2).lower(), m.group(3)
            wanted = [_unquote(v) for v in raw.strip("()").split(",")] if "in" in op else [_unquote(raw)]
            have = {v.lower() for v in values[field]}
            hit = any(w.lower() in have for w in wanted)
            if (op in ("=", "in") and not hit) or (op in ("!=", "not in") and hit):
                return False
        return True

    def issues_with_label(self, label: str) -> list[str]:
        return [k for k, i in self.issues.items() if label in i["fields"].get("labels", [])]


def _unquote(v: str) -> str:
    v = v.strip()
    return v[1:-1] if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"" else v
