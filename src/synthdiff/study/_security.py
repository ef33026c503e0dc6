"""Passwords (argon2id), session tokens and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from synthdiff.errors import InvalidArgumentError

__all__ = [
    "check_password_rules",
    "check_username_rules",
    "csrf_token",
    "csrf_valid",
    "dummy_verify",
    "hash_password",
    "hash_token",
    "new_token",
    "verify_password",
]

# argon2-cffi's defaults (RFC 9106 low-memory profile: argon2id, 64 MiB, 3 passes).
_HASHER = PasswordHasher()
_USERNAME = re.compile(r"[A-Za-z0-9_.-]{3,32}")
MIN_PASSWORD_LENGTH = 8


def check_username_rules(username: str) -> None:
    if not _USERNAME.fullmatch(username):
        raise InvalidArgumentError(
            "Expected a user name of 3 to 32 letters, digits, '.', '_' or '-', "
            f"got {len(username)} characters{'' if username.isascii() else ' with other symbols'}."
        )


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH or len(password) > 256:
        raise InvalidArgumentError(
            f"Expected a password of {MIN_PASSWORD_LENGTH} to 256 characters, got {len(password)}."
        )


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_verify(password: str) -> None:
    """Spend the time of one verification, so unknown user names cannot be told apart by timing."""
    verify_password(_DUMMY_HASH, password)


_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


def new_token() -> str:
    """A random 256-bit token for a session cookie or an invitation."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What the database stores for a session token (a stolen database gives no live sessions)."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(secret: str, nonce: str) -> str:
    """The form token for a browser's CSRF nonce cookie (signed double-submit)."""
    return hmac.new(secret.encode(), b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: str, nonce: str | None, token: str | None) -> bool:
    if not nonce or not token:
        return False
    return hmac.compare_digest(csrf_token(secret, nonce), token)
