"""Visit and photo rows inserted directly (the synced rows' owner is the sync layer, not the photo endpoints)."""

from __future__ import annotations

from backend.tables_base import new_id
from backend.visits.tables import Photo, Visit
from tests.world import Tenant

STORE_OF = {"rep": "store", "rep2": "store2", "rep3": "store3"}


async def visit_photo(tenant: Tenant, who: str, sha256: str, store: str | None = None) -> Photo:
    """A photo row with this hash in a new visit of `who` (a rep: at their store by default)."""
    store_id = tenant.ids[store or STORE_OF[who]]
    visit = Visit(id=new_id(), org_id=tenant.org_id, rep_id=tenant.users[who], store_id=store_id)
    await visit.save().run()
    photo = Photo(id=new_id(), org_id=tenant.org_id, visit_id=visit.id, sha256=sha256)
    await photo.save().run()
    return photo


async def photo_row(photo: Photo) -> dict[str, object]:
    row = await Photo.select().where(Photo.id == photo.id).first().run()
    assert row is not None
    return row
