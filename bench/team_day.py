"""The supervisor's team day: latency of GET /api/v1/team/day in JSON and in GeoJSON.

One supervisor with `--reps` reps, each with a published route plan of `--stops` stops and `--visits` visits on
one local day (yesterday in the organisation's time zone, so stops nobody visited count as missed). The visits are
inserted directly with Piccolo, as the server's judging would have left them: check-ins and check-outs across the
day, positions near the store, accuracies, verdicts (inside, outside, uncertain) and distances, a few plausibility
flags, outcomes, order values and notes; most are planned (linked to their stop, or matched by store), a few are
skipped, a few unplanned; a done visit has 0 to 2 x `--photos` photos (time, place, uploaded or not). The answer
is checked first (every rep, every visit and photo, totals that add up), then `--requests` requests of each kind
are timed, `--concurrency` at a time, over real HTTP to a uvicorn process on 127.0.0.1.

Baseline, same run, same server, same concurrency, same caller: p50 and p99 of a trivial authenticated request,
GET /api/v1/me (token check, two primary-key reads). The three kinds run in interleaved blocks, so a change in the
machine's load during the run reaches all of them alike.

    .venv/bin/python -m bench.team_day                         # 50 reps x 30 visits, 200 requests of each
    .venv/bin/python -m bench.team_day --reps 10 --requests 50 # quick
    .venv/bin/python -m bench.team_day --history-days 60       # the same day, with two months of visits before it
    .venv/bin/python -m bench.team_day --database-url postgresql://user@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import math
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from backend import db
from backend.auth.tokens import TokenIssuer, build_jwt_auth
from backend.demo.seed import insert_in_batches
from backend.geo import distance_m
from backend.orgs.tables import Organization, User
from backend.planning.tables import RoutePlan, RouteStop
from backend.settings import Settings
from backend.tables_base import new_id
from backend.visits import schemas as s
from backend.visits.tables import Photo, Visit
from bench import _harness as h

ZONE = "Asia/Shanghai"  # build_org's organisation
MAX_UNPLANNED = 3  # drop-ins per rep, at stores outside the plan
BLOCK = 50  # requests of one kind before switching to the next
WARM_UP = 3
FENCE_M = 50.0  # the radius the verdicts below are judged against
SKIP_REASONS = ("store closed", "manager asked to come back tomorrow", "road closed", "ran out of time")
NEXT_STEPS = ("", "", "", "bring the new price list", "check the cooler repair", "follow up on the order by phone")


@dataclass
class Expected:
    """What the endpoint must answer for one rep, from the rows as generated."""

    planned: int = 0
    done: int = 0
    missed: int = 0
    skipped: int = 0
    unplanned: int = 0
    flagged: int = 0
    minutes: float = 0.0
    visits: int = 0
    photos: int = 0


@dataclass
class Rows:
    plans: list[RoutePlan] = field(default_factory=list)
    stops: list[RouteStop] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    photos: list[Photo] = field(default_factory=list)


async def main() -> None:
    p = h.parser(__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=50, help="reps under the supervisor (default 50)")
    p.add_argument("--visits", type=int, default=30, help="visits per rep on the day (default 30)")
    p.add_argument("--stops", type=int, default=30, help="stops in each rep's published plan (default 30)")
    p.add_argument("--photos", type=int, default=1, help="photos per done visit on average (default 1)")
    p.add_argument("--requests", type=int, default=200, help="timed requests of each kind (default 200)")
    p.add_argument("--concurrency", type=int, default=4, help="requests at once (default 4)")
    p.add_argument(
        "--history-days",
        type=int,
        default=0,
        help="days of earlier plans and visits (the same shape) inserted before the day, so the visit table is not "
        "only the day asked for (default 0)",
    )
    args = p.parse_args()
    if args.visits - MAX_UNPLANNED > args.stops:
        raise SystemExit(f"--visits may exceed --stops by at most {MAX_UNPLANNED} (the unplanned drop-ins)")
    rng = random.Random(args.seed)
    zone = ZoneInfo(ZONE)
    day = dt.datetime.now(zone).date() - dt.timedelta(days=1)

    async with h.throwaway_database(args.database_url) as (url, data_dir):
        settings = h.bench_settings(url, data_dir)
        print(f"team_day: {h.describe_machine(url)}")
        async with h.connected(settings):
            setup = time.perf_counter()
            org = await h.build_org(
                settings,
                name="Team Foods",
                reps=args.reps,
                stores_per_rep=args.stops + MAX_UNPLANNED,
                products=0,
                rng=rng,
            )
            zone_name = await Organization.select(Organization.time_zone).where(Organization.id == org.org_id).run()
            if zone_name[0]["time_zone"] != ZONE:
                raise SystemExit(f"the harness organisation is in {zone_name[0]['time_zone']}, not {ZONE}")
            supervisor_token = await add_supervisor(settings, org)
            rows, expected = Rows(), {}
            for rep in org.reps:
                for back in range(args.history_days + 1):
                    earlier = day - dt.timedelta(days=back)
                    found = rep_day(rng, org.org_id, rep, earlier, zone, args.visits, args.stops, args.photos, rows)
                    if back == 0:
                        expected[rep.user_id] = found
            async with db.write_transaction():
                await insert_in_batches(RoutePlan, rows.plans)
                await insert_in_batches(RouteStop, rows.stops)
                await insert_in_batches(Visit, rows.visits)
                await insert_in_batches(Photo, rows.photos)
            if url.startswith("postgres"):
                await Visit.raw("ANALYZE").run()
            print(
                f"  setup: {args.reps} reps under one supervisor, each {args.visits} visits and a published plan of "
                f"{args.stops} stops on {day} ({ZONE}); {len(rows.visits):,} visits, {len(rows.photos):,} photos "
                f"and {len(rows.stops):,} stops in the tables ({args.history_days} days of history) "
                f"({time.perf_counter() - setup:.1f} s)"
            )

            async with h.server(settings, args.profile) as base, h.client(base, args.concurrency) as http:
                headers = {"Authorization": f"Bearer {supervisor_token}"}
                kinds = {
                    "team/day JSON": ("/api/v1/team/day", {"date": day.isoformat()}),
                    "team/day GeoJSON": ("/api/v1/team/day", {"date": day.isoformat(), "format": "geojson"}),
                    "me (baseline)": ("/api/v1/me", {}),
                }

                async def get(kind: str) -> tuple[float, bytes]:
                    path, params = kinds[kind]
                    started = time.perf_counter()
                    response = await http.get(path, params=params, headers=headers)
                    seconds = time.perf_counter() - started
                    if response.status_code != 200:
                        raise SystemExit(f"{path} answered {response.status_code}: {response.text[:500]}")
                    return seconds, response.content

                checked = check(
                    (await get("team/day JSON"))[1], (await get("team/day GeoJSON"))[1], expected, args.visits
                )
                print(f"  checked: {checked}")
                for kind in kinds:
                    await h.bounded(args.concurrency, [get(kind) for _ in range(WARM_UP)])
                seconds: dict[str, list[float]] = {kind: [] for kind in kinds}
                walls = dict.fromkeys(kinds, 0.0)
                sizes: dict[str, bytes] = {}
                for start in range(0, args.requests, BLOCK):
                    n = min(BLOCK, args.requests - start)
                    for kind in kinds:
                        started = time.perf_counter()
                        answers = await h.bounded(args.concurrency, [get(kind) for _ in range(n)])
                        walls[kind] += time.perf_counter() - started
                        seconds[kind] += [t for t, _ in answers]
                        sizes[kind] = answers[-1][1]

    me50, me99 = h.percentile(seconds["me (baseline)"], 50), h.percentile(seconds["me (baseline)"], 99)
    print(
        f"  measured (real HTTP, uvicorn process on 127.0.0.1, {args.requests} requests of each kind, "
        f"{args.concurrency} at a time, in blocks of {BLOCK} taking turns):"
    )
    for kind, values in seconds.items():
        body = sizes[kind]
        p50, p99 = h.percentile(values, 50), h.percentile(values, 99)
        ratio = "" if kind.startswith("me") else f"; ratio to baseline p50 {p50 / me50:.1f}x, p99 {p99 / me99:.1f}x"
        print(
            f"    {kind:<17} p50 {h.ms(p50)}, p99 {h.ms(p99)}, max {h.ms(max(values))}; "
            f"{len(values) / walls[kind]:,.1f} requests/s; {len(body):,} B (gzip-6 {len(gzip.compress(body, 6)):,} B)"
            f"{ratio}"
        )


async def add_supervisor(settings: Settings, org: h.Org) -> str:
    """A supervisor of every rep of `org`; returns their bearer token."""
    rep = await User.select(User.email, User.password_hash).where(User.id == org.reps[0].user_id).first().run()
    assert rep is not None
    supervisor = User(
        id=new_id(),
        org_id=org.org_id,
        email=f"supervisor@{rep['email'].split('@')[1]}",
        password_hash=rep["password_hash"],
        name="Supervisor",
        role="supervisor",
    )
    async with db.write_transaction():
        await supervisor.save().run()
        await User.update({User.supervisor_id: supervisor.id}).where(User.id.is_in([r.user_id for r in org.reps])).run()
    issuer = TokenIssuer(build_jwt_auth(settings, h.SECRET), settings.token_ttl_minutes)
    return issuer.issue(supervisor.id)[0]


def near(rng: random.Random, lat: float, lng: float) -> tuple[float, float]:
    """A fix near (lat, lng): mostly within 40 m, sometimes up to 150 m, rarely up to 600 m."""
    roll = rng.random()
    metres = rng.uniform(2, 40) if roll < 0.85 else rng.uniform(40, 150) if roll < 0.95 else rng.uniform(150, 600)
    bearing = rng.uniform(0, 2 * math.pi)
    north, east = metres * math.cos(bearing), metres * math.sin(bearing)
    return (
        round(lat + north / 111_320, 6),
        round(lng + east / (111_320 * math.cos(math.radians(lat))), 6),
    )


def judged(lat: float, lng: float, store: h.StoreRef, accuracy: float) -> tuple[str, float]:
    """(verdict, metres outside a 50 m circle) the way the server's judging would leave them."""
    outside = max(0.0, distance_m(lat, lng, store.lat, store.lng) - FENCE_M)
    if outside == 0.0 and accuracy <= FENCE_M:
        return "inside", 0.0
    return ("outside" if outside > accuracy else "uncertain"), round(outside, 1)


def flag(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def rep_day(
    rng: random.Random,
    org_id: uuid.UUID,
    rep: h.Rep,
    day: dt.date,
    zone: ZoneInfo,
    visits: int,
    stops: int,
    photos: int,
    rows: Rows,
) -> Expected:
    """One rep's plan and visits on `day`, appended to `rows`; returns what the team day must say of them."""
    unplanned = rng.randint(max(0, visits - stops), min(MAX_UNPLANNED, visits))
    planned_visits = visits - unplanned
    start = dt.datetime.combine(day, dt.time(8, 0), tzinfo=zone).astimezone(dt.UTC)
    plan = RoutePlan(id=new_id(), org_id=org_id, rep_id=rep.user_id, date=day, status="published", total_km=42.0)
    rows.plans.append(plan)
    route = [
        RouteStop(
            id=new_id(),
            org_id=org_id,
            plan_id=plan.id,
            store_id=rep.stores[i].id,
            seq=i + 1,
            arrive_at=start + dt.timedelta(minutes=17 * i),
            depart_at=start + dt.timedelta(minutes=17 * i + 12),
            travel_minutes=5.0,
            travel_km=1.4,
        )
        for i in range(stops)
    ]
    rows.stops += route
    visited = sorted(rng.sample(range(stops), planned_visits))
    plan_of_day: list[tuple[int | None, h.StoreRef]] = [(i, rep.stores[i]) for i in visited]
    for extra in range(unplanned):
        plan_of_day.insert(rng.randrange(len(plan_of_day) + 1), (None, rep.stores[stops + extra]))

    found = Expected(planned=stops, missed=stops - planned_visits, unplanned=unplanned, visits=visits)
    clock = start + dt.timedelta(minutes=rng.randint(0, 30))
    for stop_index, store in plan_of_day:
        roll = rng.random()
        state = "checked_out" if stop_index is None or roll < 0.88 else "checked_in" if roll < 0.92 else "skipped"
        common: dict[str, Any] = {
            "id": new_id(),
            "org_id": org_id,
            "rep_id": rep.user_id,
            "store_id": store.id,
            "planned": stop_index is not None,
            "planned_date": day if stop_index is not None else None,
            # Most planned visits carry their stop; the rest are matched by store, as the team day does.
            "route_stop_id": route[stop_index].id if stop_index is not None and rng.random() < 0.8 else None,
        }
        if state == "skipped":
            evening = dt.datetime.combine(day, dt.time(18, 30), tzinfo=zone)
            rows.visits.append(
                Visit(
                    **common,
                    state="skipped",
                    flags="[]",
                    skip_reason=rng.choice(SKIP_REASONS),
                    created_at=evening,
                    updated_at=evening,
                )
            )
            found.skipped += 1
            continue
        check_in = clock + dt.timedelta(seconds=rng.randint(0, 59))
        minutes = rng.uniform(2, 4) if rng.random() < 0.05 else rng.uniform(8, 14)
        check_out = check_in + dt.timedelta(seconds=round(minutes * 60))
        lat, lng = near(rng, store.lat, store.lng)
        accuracy = round(rng.uniform(4, 30) if rng.random() < 0.9 else rng.uniform(30, 200), 1)
        verdict, outside_m = judged(lat, lng, store, accuracy)
        flags = []
        if verdict == "outside":
            flags.append(flag("outside_fence", f"checked in {outside_m:.0f} m outside the store's fence"))
        if minutes < 5:
            flags.append(flag("short_visit", f"{minutes:.0f} min in the store, less than the 5 expected"))
        if rng.random() < 0.02:
            flags.append(flag("device_time", "the check-in time is 37 min after the server received it"))
        values: dict[str, Any] = {
            "check_in_at": check_in,
            "check_in_lat": lat,
            "check_in_lng": lng,
            "check_in_accuracy_m": accuracy,
            "check_in_fix_age_s": 0.0 if rng.random() < 0.9 else round(rng.uniform(20, 300), 1),
            "verdict": verdict,
            "verdict_distance_m": outside_m,
            "received_at": check_in + dt.timedelta(minutes=rng.randint(0, 240)),
            "notes": "; ".join(rng.sample(h.NOTE_WORDS, rng.randint(0, 3))),
            "next_steps": rng.choice(NEXT_STEPS),
            "created_at": check_in,
            "updated_at": check_in,
        }
        if state == "checked_out":
            out_lat, out_lng = near(rng, store.lat, store.lng)
            out_accuracy = round(rng.uniform(4, 30), 1)
            out_verdict, out_m = judged(out_lat, out_lng, store, out_accuracy)
            outcome = rng.choice(h.OUTCOMES)
            values |= {
                "check_out_at": check_out,
                "check_out_lat": out_lat,
                "check_out_lng": out_lng,
                "check_out_accuracy_m": out_accuracy,
                "check_out_fix_age_s": 0.0,
                "check_out_verdict": out_verdict,
                "check_out_distance_m": out_m,
                "outcome": outcome,
                "order_value_minor": rng.randint(5_000, 500_000) if outcome == "order_taken" else None,
                "updated_at": check_out,
            }
            # The team day rounds each visit to a tenth of a minute before adding them up.
            found.minutes += round((check_out - check_in).total_seconds() / 60, 1)
        rows.visits.append(Visit(**common, state=state, flags=msgspec.json.encode(flags).decode(), **values))
        for _ in range(rng.randint(0, 2 * photos)):
            taken = check_in + dt.timedelta(seconds=rng.randint(30, 300))
            photo_lat, photo_lng = near(rng, lat, lng)
            rows.photos.append(
                Photo(
                    id=new_id(),
                    org_id=org_id,
                    visit_id=common["id"],
                    sha256=f"{rng.getrandbits(256):064x}",
                    content_type="image/jpeg",
                    size_bytes=rng.randint(150_000, 900_000),
                    taken_at=taken,
                    lat=photo_lat,
                    lng=photo_lng,
                    uploaded=rng.random() < 0.9,
                    created_at=taken,
                )
            )
            found.photos += 1
        found.done += 1
        found.flagged += bool(flags)
        clock = check_out + dt.timedelta(minutes=rng.uniform(3, 8))
    return found


COUNTED = ("planned", "done", "missed", "skipped", "unplanned", "flagged", "visits", "photos")


def check(json_body: bytes, geojson_body: bytes, expected: dict[uuid.UUID, Expected], visits: int) -> str:
    """Refuse to time a wrong answer: every rep, every visit and photo, each rep's totals as generated, and the
    team's totals the sum of the reps'."""
    answer = msgspec.json.decode(json_body, type=s.TeamDay)
    problems: list[str] = []
    if {r.rep_id for r in answer.reps} != set(expected) or len(answer.reps) != len(expected):
        problems.append(f"{len(answer.reps)} reps in the answer, {len(expected)} expected")
    for rep in answer.reps:
        want, got = expected.get(rep.rep_id), rep.totals
        if want is None:
            continue
        photos = sum(len(v.photos) for v in rep.visits)
        counts = (got.planned, got.done, got.missed, got.skipped, got.unplanned, got.flagged, len(rep.visits), photos)
        wanted = tuple(getattr(want, name) for name in COUNTED)
        if counts != wanted or len(rep.planned) != want.planned:
            problems.append(f"{rep.rep_name}: {dict(zip(COUNTED, counts, strict=True))}, expected {wanted}")
        if abs(got.minutes_in_stores - want.minutes) > 0.051:
            problems.append(f"{rep.rep_name}: {got.minutes_in_stores} min in stores, {want.minutes:.1f} expected")
    total_visits = sum(len(r.visits) for r in answer.reps)
    if total_visits != visits * len(expected):
        problems.append(f"{total_visits} visits in the answer, {visits * len(expected)} expected")
    for name in s.DayTotals.__struct_fields__:
        whole, parts = getattr(answer.totals, name), sum(getattr(r.totals, name) for r in answer.reps)
        if abs(whole - parts) > 0.01 * len(answer.reps) + 1e-9:
            problems.append(f"team total {name} is {whole}, the reps' add up to {parts}")
    features = msgspec.json.decode(geojson_body)["features"]
    kinds = [f["properties"]["kind"] for f in features]
    shape = (kinds.count("visit"), kinds.count("planned_route"), kinds.count("actual_path"))
    routes = sum(len(r.planned) >= 2 for r in answer.reps)
    paths = sum(sum((v.check_in is not None) + (v.check_out is not None) for v in r.visits) >= 2 for r in answer.reps)
    if shape != (total_visits, routes, paths):
        problems.append(
            f"GeoJSON (visits, planned routes, actual paths) {shape}, expected {(total_visits, routes, paths)}"
        )
    if problems:
        raise SystemExit("the team day is wrong:\n  " + "\n  ".join(problems[:20]))
    t = answer.totals
    photos = sum(len(v.photos) for r in answer.reps for v in r.visits)
    return (
        f"{len(answer.reps)} reps, {total_visits:,} visits, {photos:,} photos, "
        f"{sum(len(r.planned) for r in answer.reps):,} planned stops; totals planned {t.planned:,}, done {t.done:,}, "
        f"missed {t.missed}, skipped {t.skipped}, unplanned {t.unplanned}, flagged {t.flagged}, "
        f"{t.minutes_in_stores:,.0f} min in stores; each rep's totals as generated and the team's their sum; "
        f"{len(features):,} GeoJSON features"
    )


if __name__ == "__main__":
    asyncio.run(main())
