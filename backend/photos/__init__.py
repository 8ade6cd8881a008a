"""Photo blobs of field visits: uploaded apart from their synced `photo` rows, stored content-addressed.

A photo's metadata (visit, sha256, taken_at, lat/lng) is a synced row (backend/visits/tables.py `Photo`); its
bytes come later, when the network allows, as `PUT /api/v1/photos/{sha256}`. The server trusts nothing the client
says about the bytes: the hash must match, the type is read from the bytes, and the image must decode within a
pixel budget. Blobs are kept per organisation behind the `PhotoStorage` protocol (storage.py: local disk today,
an S3-compatible store fits the same four calls) and served only to those who can see a visit holding them,
without metadata (stripping.py).

Modules: formats (magic numbers), decoding (bounded Pillow decode), stripping (lossless metadata removal),
storage, services (the rules), controllers (HTTP), schemas, errors.
"""
