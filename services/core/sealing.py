"""Secrets a service must read back (so not hashes): sealed at rest with Fernet (AES-128-CBC
and HMAC-SHA256, from `cryptography`) under a key derived from configuration.

One key per purpose is derived from the configured key material, so the same material never
keys two uses. A value sealed under another key does not open: `Unsealable`.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class Unsealable(Exception):
    """The value was sealed under another key (the key changed) or is damaged."""


class Sealer:
    def __init__(self, key_material: bytes, purpose: str) -> None:
        derived = hashlib.sha256(purpose.encode() + b":" + key_material).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise Unsealable("sealed under another key, or damaged") from exc
