"""HTTP for photo blobs: upload (PUT), "do you have it?" (HEAD), download (GET). Rules live in services.py."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, head, put
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ClientException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.response import Stream

from backend.auth.guards import EVERYONE
from backend.bodies import read_limited
from backend.deps import Caller, SettingsDep
from backend.errors import NotFound
from backend.photos import services
from backend.photos.errors import PhotoTooLarge
from backend.photos.schemas import PhotoBlob
from backend.photos.storage import PhotoStorage, storage_from_settings

# A content-addressed blob never changes: browsers may keep it for a year without asking again.
CACHE_CONTROL = "private, max-age=31536000, immutable"

PathSha256 = Annotated[
    str,
    Parameter(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the uploaded bytes, 64 lowercase hex characters"),
]
Storage = NamedDependency[PhotoStorage]


def provide_photo_storage(settings: SettingsDep) -> PhotoStorage:
    return storage_from_settings(settings)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    return any(tag.strip().removeprefix("W/") in (etag, "*") for tag in if_none_match.split(","))


class PhotoController(Controller):
    path = "/api/v1/photos"
    tags = ["photos"]
    dependencies = {"photo_storage": Provide(provide_photo_storage, sync_to_thread=False)}

    @put(
        "/{sha256:str}",
        guards=EVERYONE,
        status_code=201,
        summary="Upload a photo's bytes (JPEG, PNG or WebP) under their SHA-256; 201 stored, 200 already stored",
        request_max_body_size=None,  # checked against FIELDBOOK_MAX_PHOTO_BYTES below
    )
    async def upload_photo(
        self,
        sha256: PathSha256,
        request: Request[Any, Any, Any],
        principal: Caller,
        settings: SettingsDep,
        photo_storage: Storage,
    ) -> Response[PhotoBlob]:
        try:
            body = await read_limited(request, settings.max_photo_bytes)
        except ClientException as exc:
            if exc.status_code != 413:
                raise
            raise PhotoTooLarge(
                f"a photo may be at most {settings.max_photo_bytes:,} bytes (FIELDBOOK_MAX_PHOTO_BYTES)"
            ) from None
        blob, created = await services.store_photo(
            principal, photo_storage, sha256, body, max_pixels=settings.max_photo_pixels
        )
        if not created:
            return Response(blob, status_code=200)
        return Response(blob, status_code=201, headers={"Location": f"{self.path}/{sha256}"})

    @head(
        "/{sha256:str}",
        guards=EVERYONE,
        summary="200 when the caller's organisation already holds this photo (the phone can skip uploading it)",
    )
    async def photo_exists(self, sha256: PathSha256, principal: Caller, photo_storage: Storage) -> Response[None]:
        if not await services.photo_exists(principal, photo_storage, sha256):
            raise NotFound("No such photo", code="photo.not_found")
        return Response(None, status_code=200, media_type=MediaType.TEXT)  # not JSON: there is no body

    @get(
        "/{sha256:str}",
        guards=EVERYONE,
        summary="A photo of a visit the caller can see, without its metadata (EXIF, XMP); cacheable for good",
        responses={
            200: ResponseSpec(
                bytes,
                media_type="image/*",
                description="The image as image/jpeg, image/png or image/webp; ETag is its SHA-256",
                generate_examples=False,
            )
        },
    )
    async def get_photo(
        self, sha256: PathSha256, request: Request[Any, Any, Any], principal: Caller, photo_storage: Storage
    ) -> Response[Any]:
        headers = {"ETag": f'"{sha256}"', "Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"}
        if _matches(request.headers.get("if-none-match"), headers["ETag"]):
            await services.find_photo(principal, photo_storage, sha256)  # 404 unless the caller may see it
            return Response(None, status_code=304, headers=headers)
        photo = await services.open_photo(principal, photo_storage, sha256)
        return Stream(
            photo.blob.chunks,
            media_type=photo.content_type,
            headers={**headers, "Content-Length": str(photo.blob.size)},
        )
