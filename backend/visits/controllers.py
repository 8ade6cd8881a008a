from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from litestar import Controller, Request, Response, get, put
from litestar.params import FromQuery, JSONBody

from backend.auth.guards import ADMIN, EVERYONE, STAFF
from backend.deps import Caller
from backend.errors import FieldError, Invalid
from backend.fields import check_days
from backend.visits import schemas as s
from backend.visits import team
from backend.visits.rules import VisitRules, set_visit_rules, visit_rules

GEOJSON = "application/geo+json"
CSV = "text/csv"


class VisitRulesController(Controller):
    path = "/api/v1/visit-rules"
    tags = ["visits"]

    @get("/", guards=EVERYONE, summary="The organisation's thresholds for judging check-ins (the phone uses them too)")
    async def get_rules(self, principal: Caller) -> VisitRules:
        return await visit_rules(principal.org_id)

    @put("/", guards=ADMIN, summary="Change the thresholds; they apply to check-ins judged from now on")
    async def put_rules(self, principal: Caller, data: JSONBody[VisitRules]) -> VisitRules:
        return await set_visit_rules(principal.org_id, data)


class TeamController(Controller):
    path = "/api/v1/team"
    tags = ["team"]

    @get(
        "/day",
        guards=STAFF,
        summary="The team's day: planned stops and actual visits per rep, with verdicts, flags and totals",
        description="JSON by default; a GeoJSON FeatureCollection with `format=geojson` or "
        "`Accept: application/geo+json`.",
    )
    async def day(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        date: FromQuery[dt.date],
        rep_id: FromQuery[uuid.UUID | None] = None,
        territory_id: FromQuery[uuid.UUID | None] = None,
        flagged: FromQuery[bool] = False,
        format: FromQuery[Literal["json", "geojson"] | None] = None,
    ) -> Response[Any]:
        check_days(date=date)
        result = await team.team_day(principal, date, rep_id=rep_id, territory_id=territory_id, flagged_only=flagged)
        wants_geojson = format == "geojson" or (format is None and GEOJSON in request.headers.get("accept", ""))
        if wants_geojson:
            return Response(team.day_geojson(result), media_type=GEOJSON)
        return Response(result)

    @get("/live", guards=STAFF, summary="Each rep's last known position and their current or last visit")
    async def live(self, principal: Caller) -> list[s.LivePosition]:
        return await team.team_live(principal)


class ReportController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]

    @get(
        "/visits",
        guards=STAFF,
        summary="Visits per rep and day: planned against done, compliance, time in store, flags, outcomes",
        description="JSON by default; CSV with `format=csv`. At most 366 days.",
    )
    async def visits(
        self,
        principal: Caller,
        date_from: FromQuery[dt.date],
        date_to: FromQuery[dt.date],
        rep_id: FromQuery[uuid.UUID | None] = None,
        format: FromQuery[Literal["json", "csv"]] = "json",
    ) -> Response[Any]:
        check_days(date_from=date_from, date_to=date_to)
        if date_to < date_from:
            raise Invalid("date_to is before date_from", errors=[FieldError("date_to", "must not be before date_from")])
        if (date_to - date_from).days >= team.MAX_REPORT_DAYS:
            raise Invalid(
                "The range is too long", errors=[FieldError("date_to", f"at most {team.MAX_REPORT_DAYS} days")]
            )
        report = await team.visit_report(principal, date_from, date_to, rep_id)
        if format == "csv":
            name = f"visits-{date_from}-{date_to}.csv"
            return Response(
                team.report_csv(report),
                media_type=CSV,
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        return Response(report)
