"""Organisation profiles: how big the simulated account is and how busy."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    workspaces: int
    users: int
    service_principals: int
    all_purpose_clusters: int
    jobs: int
    warehouses: int
    pipelines: int
    audit_events_per_user_day: float  # on a weekday, before growth
    queries_per_warehouse_hour: float  # at the daily peak
    growth_per_day: float = 0.004  # compounding growth of activity


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("small", workspaces=3, users=40, service_principals=6, all_purpose_clusters=6, jobs=24,
                warehouses=4, pipelines=3, audit_events_per_user_day=40, queries_per_warehouse_hour=20),
        Profile("medium", workspaces=8, users=300, service_principals=25, all_purpose_clusters=30, jobs=150,
                warehouses=16, pipelines=12, audit_events_per_user_day=70, queries_per_warehouse_hour=60),
        Profile("large", workspaces=25, users=2000, service_principals=120, all_purpose_clusters=120,
                jobs=700, warehouses=50, pipelines=50, audit_events_per_user_day=128,
                queries_per_warehouse_hour=140),
    )
}


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; one of {', '.join(PROFILES)}") from None
