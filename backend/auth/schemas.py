from __future__ import annotations

import datetime as dt

import msgspec

from backend.fields import Email, Password
from backend.orgs.schemas import Organization, User


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password


class LoginResponse(msgspec.Struct):
    access_token: str
    token_type: str
    expires_at: dt.datetime
    user: User


class Me(msgspec.Struct):
    user: User
    organization: Organization


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password
