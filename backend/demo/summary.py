"""What a demo seeding hands back: the organisation, the logins to try, and how much was made."""

from __future__ import annotations

import re

import msgspec

from backend.catalog.tables import Assortment, Product
from backend.errors import Conflict
from backend.inspections.tables import Inspection
from backend.orgs.tables import Organization, User
from backend.stores.tables import Store
from backend.visits.tables import Visit

DEMO_ORG_NAME = "Demo Foods"
DEMO_EMAIL_DOMAIN = "demofoods.example"
# Shared by every demo user, printed by `fieldbook demo`: the demo is for showing, not for keeping secrets.
DEMO_PASSWORD = "fieldbook-demo"

_ROLE_ORDER = {"admin": 0, "supervisor": 1, "rep": 2}


class DatabaseNotEmpty(Conflict):
    code = "demo.database_not_empty"


class DemoLogin(msgspec.Struct):
    email: str
    password: str
    role: str
    name: str


class DemoSummary(msgspec.Struct):
    organization: str
    logins: list[DemoLogin]
    stores: int
    products: int
    assortments: int
    visits: int
    inspections: int
    planned_today: int = 0  # stops of today's routes


def _login_order(login: DemoLogin) -> tuple[int, str, int]:
    """Admin first, then supervisors, then reps; rep2 before rep10."""
    local = login.email.split("@")[0]
    digits = re.search(r"\d+$", local)
    return _ROLE_ORDER.get(login.role, 3), local.rstrip("0123456789"), int(digits.group()) if digits else 0


async def existing_demo_logins() -> DemoSummary | None:
    """The summary of the demo organisation seeded earlier, or None when there is none.

    The password shown is the demo's; it is wrong for any user whose password was changed since.
    """
    org = await Organization.select(Organization.id).where(Organization.name == DEMO_ORG_NAME).first().run()
    if org is None:
        return None
    org_id = org["id"]
    users = (
        await User.select(User.email, User.role, User.name)
        .where((User.org_id == org_id) & User.email.like(f"%@{DEMO_EMAIL_DOMAIN}"))
        .run()
    )
    logins = sorted(
        (DemoLogin(email=u["email"], password=DEMO_PASSWORD, role=u["role"], name=u["name"]) for u in users),
        key=_login_order,
    )
    return DemoSummary(
        organization=DEMO_ORG_NAME,
        logins=logins,
        stores=await Store.count().where(Store.org_id == org_id).run(),
        products=await Product.count().where(Product.org_id == org_id).run(),
        assortments=await Assortment.count().where(Assortment.org_id == org_id).run(),
        visits=await Visit.count().where((Visit.org_id == org_id) & (Visit.planned_seq.is_null())).run(),
        inspections=await Inspection.count().where(Inspection.org_id == org_id).run(),
        planned_today=await Visit.count().where((Visit.org_id == org_id) & Visit.planned_seq.is_not_null()).run(),
    )
