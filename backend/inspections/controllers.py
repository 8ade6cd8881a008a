from __future__ import annotations

import datetime as dt
import uuid

from litestar import Controller, get, put
from litestar.params import FromPath, FromQuery, JSONBody

from backend.auth.guards import ADMIN, EVERYONE
from backend.deps import Caller
from backend.fields import Limit, Offset, check_days
from backend.inspections import schemas, services
from backend.inspections.rules import InspectionRules, inspection_rules, set_inspection_rules
from backend.paging import Page


class InspectionController(Controller):
    path = "/api/v1/inspections"
    tags = ["inspections"]

    @get(
        "/",
        guards=EVERYONE,
        summary="Inspections, newest first: a rep's own, a supervisor's team's and territories', an admin's all",
        description="Written over sync (docs/sync-protocol.md 8); dates are local to the organisation.",
    )
    async def list_inspections(
        self,
        principal: Caller,
        limit: Limit = 50,
        offset: Offset = 0,
        store_id: FromQuery[uuid.UUID | None] = None,
        visit_id: FromQuery[uuid.UUID | None] = None,
        rep_id: FromQuery[uuid.UUID | None] = None,
        date_from: FromQuery[dt.date | None] = None,
        date_to: FromQuery[dt.date | None] = None,
    ) -> Page[schemas.InspectionSummary]:
        check_days(date_from=date_from, date_to=date_to)
        return await services.list_inspections(
            principal,
            limit=limit,
            offset=offset,
            store_id=store_id,
            visit_id=visit_id,
            rep_id=rep_id,
            date_from=date_from,
            date_to=date_to,
        )

    @get("/{inspection_id:uuid}", guards=EVERYONE, summary="One inspection with its items and scores")
    async def get_inspection(self, inspection_id: FromPath[uuid.UUID], principal: Caller) -> schemas.InspectionDetail:
        return await services.get_inspection(principal, inspection_id)


class InspectionRulesController(Controller):
    path = "/api/v1/inspection-rules"
    tags = ["inspections"]

    @get("/", guards=EVERYONE, summary="Score weights and out-of-stock thresholds (the phone scores with them)")
    async def get_rules(self, principal: Caller) -> InspectionRules:
        return await inspection_rules(principal.org_id)

    @put("/", guards=ADMIN, summary="Change the score weights and thresholds (existing scores are not rewritten)")
    async def put_rules(self, principal: Caller, data: JSONBody[InspectionRules]) -> InspectionRules:
        return await set_inspection_rules(principal.org_id, data)
