"""A small, realistic world for tests: two tenants, each with an admin, two supervisors and three reps.

Built through the services (the same rules as production writes); tokens come from the real login endpoint.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx

from backend.auth.principal import Principal
from backend.catalog import services as catalog
from backend.catalog.barcodes import with_check_digit
from backend.catalog.schemas import AssortmentCreate, ProductCreate
from backend.orgs import services as orgs
from backend.orgs.schemas import UserCreate
from backend.stores import services as stores
from backend.stores import territories
from backend.stores.schemas import StoreCreate, TerritoryCreate

PASSWORD = "correct horse battery staple"


@dataclass
class Tenant:
    name: str
    org_id: uuid.UUID
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, uuid.UUID] = field(default_factory=dict)

    def principal(self, who: str, role: str) -> Principal:
        return Principal(user_id=self.users[who], org_id=self.org_id, role=role, email=self.emails[who])  # type: ignore[arg-type]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@dataclass
class World:
    own: Tenant
    other: Tenant


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def build_tenant(client: httpx.AsyncClient, name: str, barcode_base: int) -> Tenant:
    org = await orgs.create_organization(name, time_zone="Asia/Shanghai", currency="CNY")
    tenant = Tenant(name=name, org_id=org.id)
    slug = name.lower().replace(" ", "")

    async def user(who: str, role: str, supervisor: str | None = None) -> None:
        email = f"{who}@{slug}.test"
        created = await orgs.create_user(
            org.id,
            UserCreate(
                email=email,
                password=PASSWORD,
                name=who.title(),
                role=role,  # type: ignore[arg-type]
                supervisor_id=tenant.users[supervisor] if supervisor else None,
                home_lat=31.23,
                home_lng=121.47,
            ),
        )
        tenant.users[who], tenant.emails[who] = created.id, email

    await user("admin", "admin")
    await user("supervisor", "supervisor")
    await user("supervisor2", "supervisor")
    await user("rep", "rep", "supervisor")
    await user("rep2", "rep", "supervisor")
    await user("rep3", "rep", "supervisor2")
    admin = tenant.principal("admin", "admin")

    territory = await territories.create_territory(
        admin, TerritoryCreate(name="Jing'an", supervisor_id=tenant.users["supervisor"])
    )
    tenant.ids["territory"] = territory.id
    for key, rep, lat in (("store", "rep", 31.2290), ("store2", "rep2", 31.2310), ("store3", "rep3", 31.2330)):
        created = await stores.create_store(
            admin,
            StoreCreate(
                code=f"{key.upper()}-1",
                name=f"{name} {key}",
                channel="convenience",
                chain="FamilyMart",
                lat=lat,
                lng=121.4450,
                assigned_rep_id=tenant.users[rep],
            ),
        )
        tenant.ids[key] = created.id
    product = await catalog.create_product(
        admin,
        ProductCreate(
            code="SKU-1",
            name="Jasmine tea 500ml",
            brand="Demo",
            category="Beverages",
            own_brand=True,
            barcode=with_check_digit(str(barcode_base)),
            rrp_minor=450,
        ),
    )
    tenant.ids["product"] = product.id
    assortment = await catalog.create_assortment(admin, AssortmentCreate(product_id=product.id, chain="FamilyMart"))
    tenant.ids["assortment"] = assortment.id
    for who, email in tenant.emails.items():
        tenant.tokens[who] = await login(client, email)
    return tenant


async def build_world(client: httpx.AsyncClient) -> World:
    own = await build_tenant(client, "Acme Foods", 690123456789)
    other = await build_tenant(client, "Globex Drinks", 690987654321)
    return World(own=own, other=other)
