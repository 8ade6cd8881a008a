"""The demo sales team: an admin, two supervisors and eight reps, created through the real user service."""

from __future__ import annotations

import uuid

import msgspec

from backend.auth.principal import Principal, Role
from backend.demo.places import Places
from backend.demo.summary import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD, DemoLogin
from backend.orgs.schemas import UserCreate
from backend.orgs.services import create_user

ZONE = "Asia/Shanghai"

ADMIN_NAME = "Sophie Lin"
# (name, territory key) of each supervisor; the reps of a territory report to its supervisor.
SUPERVISORS = (("Zhang Wei", "west"), ("Emily Zhou", "east"))
REPS = (
    ("Li Na", "west"),
    ("Jason Xu", "west"),
    ("Wang Lei", "west"),
    ("Grace Wu", "west"),
    ("Liu Yang", "east"),
    ("Kevin Huang", "east"),
    ("Zhao Min", "east"),
    ("Chen Hao", "east"),
)


class Member(msgspec.Struct, frozen=True):
    user_id: uuid.UUID
    email: str
    name: str
    role: Role
    territory: str | None = None
    home_lat: float | None = None
    home_lng: float | None = None


class Team(msgspec.Struct, frozen=True):
    org_id: uuid.UUID
    admin: Member
    supervisors: list[Member]
    reps: list[Member]

    def admin_principal(self) -> Principal:
        return Principal(user_id=self.admin.user_id, org_id=self.org_id, role="admin", email=self.admin.email)

    def supervisor_of(self, territory: str) -> Member:
        return next(s for s in self.supervisors if s.territory == territory)

    def reps_of(self, territory: str) -> list[Member]:
        return [r for r in self.reps if r.territory == territory]

    def logins(self) -> list[DemoLogin]:
        return [
            DemoLogin(email=m.email, password=DEMO_PASSWORD, role=m.role, name=m.name)
            for m in (self.admin, *self.supervisors, *self.reps)
        ]


async def _create(
    org_id: uuid.UUID,
    local_part: str,
    name: str,
    role: Role,
    *,
    territory: str | None = None,
    supervisor_id: uuid.UUID | None = None,
    home: tuple[float, float] | None = None,
) -> Member:
    email = f"{local_part}@{DEMO_EMAIL_DOMAIN}"
    user = await create_user(
        org_id,
        UserCreate(
            email=email,
            password=DEMO_PASSWORD,
            name=name,
            role=role,
            supervisor_id=supervisor_id,
            time_zone=ZONE,
            home_lat=home[0] if home else None,
            home_lng=home[1] if home else None,
        ),
    )
    return Member(
        user_id=user.id,
        email=email,
        name=name,
        role=role,
        territory=territory,
        home_lat=user.home_lat,
        home_lng=user.home_lng,
    )


async def create_team(org_id: uuid.UUID, places: Places) -> Team:
    """Create the demo users; each rep lives in one of the residential neighbourhoods of their territory."""
    admin = await _create(org_id, "admin", ADMIN_NAME, "admin")
    supervisors = [
        await _create(org_id, f"supervisor{n}", name, "supervisor", territory=territory)
        for n, (name, territory) in enumerate(SUPERVISORS, start=1)
    ]
    boss = {s.territory: s.user_id for s in supervisors}
    homes = {key: [h for h in places.homes if h.territory == key] for key in boss}
    reps = []
    for n, (name, territory) in enumerate(REPS, start=1):
        home = homes[territory].pop(0)
        reps.append(
            await _create(
                org_id,
                f"rep{n}",
                name,
                "rep",
                territory=territory,
                supervisor_id=boss[territory],
                home=(home.lat, home.lng),
            )
        )
    return Team(org_id=org_id, admin=admin, supervisors=supervisors, reps=reps)
