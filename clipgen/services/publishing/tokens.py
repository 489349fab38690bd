"""OAuth tokens at rest: encrypted (Fernet: AES-128-CBC + HMAC-SHA256) with a key derived
from SECRET_KEY by HKDF, so a database dump alone reveals no token."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from clipgen.config import get_settings

_INFO = b"clipgen platform tokens v1"


def _fernet() -> Fernet:
    secret = get_settings().effective_secret_key().encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plain: str) -> str:
    """The token encrypted for the database ("" stays "")."""
    if not plain:
        return ""
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(stored: str) -> str:
    """The token back; "" when nothing is stored or it cannot be read (another SECRET_KEY,
    tampering): the clipper is asked to connect again rather than the app failing."""
    if not stored:
        return ""
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except (InvalidToken, ValueError):
        return ""
