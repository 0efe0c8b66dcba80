"""Gold facts, one module per subject: cost, runs, queries, warehouses, security, table health."""

from __future__ import annotations

from lakesentinel.gold.facts.cost import CostFacts
from lakesentinel.gold.facts.queries import QueryFacts
from lakesentinel.gold.facts.runs import JobRunFacts, TaskRunFacts
from lakesentinel.gold.facts.security import SecurityFacts
from lakesentinel.gold.facts.table_health import TableHealthFacts
from lakesentinel.gold.facts.warehouses import WarehouseFacts
from lakesentinel.gold.task import FactTask


def fact_tasks() -> list[FactTask]:
    return [CostFacts(), JobRunFacts(), TaskRunFacts(), QueryFacts(), WarehouseFacts(), SecurityFacts(),
            TableHealthFacts()]
