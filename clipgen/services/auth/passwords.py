"""Password hashing (Argon2id) and the strength rules for new passwords."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from clipgen.services.errors import InvalidInput

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("clipgen-dummy-password-for-timing")

_COMMON_PASSWORDS = frozenset(
    [
        "password",
        "password1",
        "password12",
        "password123",
        "password1234",
        "passw0rd",
        "p@ssw0rd",
        "123456789",
        "1234567890",
        "12345678910",
        "0123456789",
        "9876543210",
        "1111111111",
        "qwertyuiop",
        "qwerty1234",
        "qwerty12345",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "asdfghjkl",
        "iloveyou12",
        "letmein123",
        "welcome123",
        "abc1234567",
        "abcdefghij",
        "football123",
        "baseball123",
        "sunshine12",
        "princess12",
        "dragon1234",
        "monkey1234",
        "trustno1234",
        "superman12",
        "starwars12",
        "whatever12",
        "changeme12",
        "administrator",
    ]
)


def hash_password(password: str) -> str:
    """An Argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; takes the same time for an unknown user."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def check_password_strength(password: str, *, email: str = "", display_name: str = "") -> None:
    """Refuse a password that is short, common or made of the user's own names."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"Choose a password of at most {MAX_PASSWORD_LENGTH} characters.")
    lowered = password.lower()
    if lowered in _COMMON_PASSWORDS or len(set(lowered)) <= 2:
        raise InvalidInput("That password is too easy to guess. Choose another.")
    personal = [email.split("@")[0].lower(), display_name.strip().lower()]
    if any(part and len(part) >= 4 and part in lowered for part in personal):
        raise InvalidInput("Your password must not contain your email or your name.")
