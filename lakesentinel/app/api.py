"""The app's HTTP API. Routes see an ``AppContext`` (built by ``composition.py``), never where the
data lives; reads are cached for a few seconds, every action clears the cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Callable

from fastapi import Body, FastAPI, Header, Path as PathParam, Query, Request
from fastapi.responses import JSONResponse

from lakesentinel.alerts.incident_queries import IncidentLookupError
from lakesentinel.app import domains, incident_actions, incidents, overview, schemas
from lakesentinel.app.config import AppSettings
from lakesentinel.app.query_layer import QueryLayer, TtlCache
from lakesentinel.errors import LakeSentinelError
from lakesentinel.settings import Settings

TITLE = "lakesentinel Platform Health API"
VERSION = "1.0.0"
STATIC = Path(__file__).parent / "static"
PROBLEMS = {400: {"model": schemas.Problem, "description": "The request cannot apply; the detail says why"},
            404: {"model": schemas.Problem, "description": "No such incident or silence"}}

UserToken = Annotated[str | None, Header(alias="x-forwarded-access-token", include_in_schema=False)]
IncidentId = Annotated[str, PathParam(min_length=1, max_length=64, description="An incident id, or its first characters")]
SilenceId = Annotated[str, PathParam(min_length=1, max_length=64, description="A silence id, or its first characters")]
UserEmail = Annotated[str | None, Header(alias="x-forwarded-email", include_in_schema=False)]


@dataclass
class AppContext:
    cfg: Settings
    settings: AppSettings
    layer: QueryLayer
    operator: Callable[[], str]  # who acts when no signed-in user is forwarded (the embedded default)
    clock: Callable[[], datetime]
    cache: TtlCache = field(default_factory=lambda: TtlCache(10.0))


def create_app(ctx: AppContext, static_dir: Path | None = STATIC) -> FastAPI:
    # Any body can be malformed JSON, which FastAPI refuses with a 400: every operation documents it.
    app = FastAPI(title=TITLE, version=VERSION, responses={400: PROBLEMS[400]}, description="Health of a Databricks platform from lakesentinel's "
                  "lakehouse: overview, domains, incidents, silences. Actions go through the same code as the CLI.")
    app.state.context = ctx

    @app.exception_handler(IncidentLookupError)
    async def not_found(_: Request, exc: IncidentLookupError):
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(LakeSentinelError)
    async def refused(_: Request, exc: LakeSentinelError):
        return JSONResponse({"detail": str(exc)}, status_code=400)

    def layer_for(token: str | None) -> QueryLayer:
        return ctx.layer.for_user(token)

    def actor(email: str | None) -> str:
        return email or ctx.operator()

    def cached(name: str, token: str | None, compute):
        return ctx.cache.get(ctx.cache.key(name, token), compute)

    @app.get("/api/meta", response_model=schemas.Meta, tags=["app"])
    def meta(x_token: UserToken = None, x_email: UserEmail = None):
        return {"environment": ctx.cfg.environment, "query_layer": ctx.settings.query_layer,
                "refresh_s": ctx.settings.refresh_s, "user": actor(x_email),
                "copilot_configured": bool(ctx.settings.copilot_endpoint), "now": ctx.clock()}

    @app.get("/api/overview", response_model=schemas.Overview, tags=["overview"])
    def get_overview(x_token: UserToken = None):
        def compute():
            layer, now = layer_for(x_token), ctx.clock()
            rows = incidents.list_incidents(layer, now, limit=None)
            active = [r for r in rows if r["status"] != "resolved"]
            counts = {s: sum(1 for r in active if r["severity"] == s) for s in ("critical", "high", "medium", "low", "info")}
            return {"health": overview.health_scores(rows), "open_incidents": active[:10], "incident_counts": counts,
                    "spend": overview.spend_against_budget(layer, ctx.settings.daily_budget),
                    "freshness": overview.freshness(layer, ctx.cfg, now)}

        return cached("overview", x_token, compute)

    @app.get("/api/domains/{domain}", response_model=schemas.DomainPage, tags=["domains"])
    def get_domain(domain: schemas.Domain, x_token: UserToken = None):
        def compute():
            layer = layer_for(x_token)
            page = domains.domain_page(layer, domain)
            page["incidents"] = incidents.list_incidents(layer, ctx.clock(), domain=domain, limit=20)
            return page

        return cached(f"domain:{domain}", x_token, compute)

    @app.get("/api/incidents", response_model=list[schemas.IncidentSummary], tags=["incidents"])
    def get_incidents(status: Annotated[list[schemas.Status] | None,
                                        Query(description="Statuses to list (default: every one)")] = None,
                      domain: schemas.Domain | None = None,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                      x_token: UserToken = None):
        chosen = tuple(status) if status else None
        return cached(f"incidents:{chosen}:{domain}:{limit}", x_token,
                      lambda: incidents.list_incidents(layer_for(x_token), ctx.clock(), chosen, domain, limit))

    @app.get("/api/incidents/{incident_id}", response_model=schemas.IncidentDetail, responses=PROBLEMS,
             tags=["incidents"])
    def get_incident(incident_id: IncidentId, x_token: UserToken = None):
        return cached(f"incident:{incident_id}", x_token,
                      lambda: incidents.incident_detail(layer_for(x_token), incident_id, ctx.clock()))

    def act(action: str, incident_id: str, body: schemas.CommandBody, token, email):
        out = incident_actions.command(layer_for(token), action, incident_id, actor(email), body.note, ctx.clock())
        ctx.cache.clear()
        return out

    @app.post("/api/incidents/{incident_id}/ack", response_model=schemas.CommandResult, responses=PROBLEMS,
              tags=["incidents"])
    def ack(incident_id: IncidentId, body: Annotated[schemas.CommandBody, Body()] = schemas.CommandBody(),
            x_token: UserToken = None, x_email: UserEmail = None):
        return act("ack", incident_id, body, x_token, x_email)

    @app.post("/api/incidents/{incident_id}/resolve", response_model=schemas.CommandResult, responses=PROBLEMS,
              tags=["incidents"])
    def resolve(incident_id: IncidentId, body: Annotated[schemas.CommandBody, Body()] = schemas.CommandBody(),
                x_token: UserToken = None, x_email: UserEmail = None):
        return act("resolve", incident_id, body, x_token, x_email)

    @app.post("/api/incidents/{incident_id}/renotify", response_model=schemas.RenotifyResult, responses=PROBLEMS,
              tags=["incidents"])
    def renotify(incident_id: IncidentId, x_token: UserToken = None, x_email: UserEmail = None):
        out = incident_actions.renotify(ctx.cfg, layer_for(x_token), incident_id, actor(x_email))
        ctx.cache.clear()
        return out

    @app.get("/api/review/trends", response_model=list[schemas.TrendDay], tags=["review"])
    def trends(x_token: UserToken = None):
        return cached("trends", x_token, lambda: incidents.response_trends(layer_for(x_token)))

    @app.get("/api/silences", response_model=list[schemas.SilenceOut], tags=["silences"])
    def get_silences(x_token: UserToken = None):
        return incident_actions.list_silences(layer_for(x_token), ctx.clock())

    @app.post("/api/silences/preview", response_model=list[schemas.PreviewHit], responses=PROBLEMS, tags=["silences"])
    def preview(body: schemas.MatchersBody, x_token: UserToken = None):
        return incident_actions.preview(layer_for(x_token), body.matchers, ctx.clock())

    @app.post("/api/silences", response_model=schemas.SilenceOut, status_code=201, responses=PROBLEMS,
              tags=["silences"])
    def add_silence(body: schemas.SilenceBody, x_token: UserToken = None, x_email: UserEmail = None):
        now = ctx.clock()
        silence = incident_actions.new_silence(body.matchers, body.duration, actor(x_email), body.comment, now)
        incident_actions.add_silence(layer_for(x_token), silence)
        ctx.cache.clear()
        return incident_actions.silence_row(silence, now)

    @app.delete("/api/silences/{silence_id}", response_model=schemas.SilenceOut, responses=PROBLEMS,
                tags=["silences"])
    def expire_silence(silence_id: SilenceId, x_token: UserToken = None, x_email: UserEmail = None):
        out = incident_actions.expire_silence(layer_for(x_token), silence_id, actor(x_email), ctx.clock())
        ctx.cache.clear()
        return out

    @app.post("/api/chat", response_model=schemas.ChatAnswer, tags=["chat"])
    def chat(body: schemas.ChatBody):
        # The copilot is another piece of work; until its endpoint is configured the page says so.
        return {"configured": bool(ctx.settings.copilot_endpoint), "answer": None}

    if static_dir is not None and (static_dir / "index.html").is_file():
        from fastapi.staticfiles import StaticFiles

        app.mount("/", StaticFiles(directory=static_dir, html=True), name="frontend")
    return app
