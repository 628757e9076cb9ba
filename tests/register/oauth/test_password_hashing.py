"""Adopters' passwords: argon2id with the configured memory, never weaker than OWASP's floor in
production, and hashes made under other settings still verify."""

import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError

from services.core.settings import PRODUCTION_MIN_PASSWORD_HASH_KIB, Settings
from services.register.oauth import accounts
from tests.fixtures.tokens import PRODUCTION


def test_the_default_is_argon2_cffis_and_production_refuses_less_than_owasps_floor(monkeypatch):
    monkeypatch.delenv("PASSWORD_HASH_MEMORY_KIB", raising=False)
    assert Settings().password_hash_memory_kib == PasswordHasher().memory_cost == 65_536
    low = PRODUCTION_MIN_PASSWORD_HASH_KIB - 1
    with pytest.raises(ValidationError, match="PASSWORD_HASH_MEMORY_KIB"):
        Settings(**{**PRODUCTION, "password_hash_memory_kib": low})
    assert Settings(environment="test", password_hash_memory_kib=low).password_hash_memory_kib == low


def test_hashes_use_the_configured_memory_and_any_earlier_hash_still_verifies():
    configured = accounts.get_settings().password_hash_memory_kib
    made = accounts.hash_password("correct horse battery")
    assert made.startswith("$argon2id$") and f"m={configured}," in made
    assert accounts._verify(made, "correct horse battery") and not accounts._verify(made, "wrong horse battery")
    stronger = PasswordHasher(memory_cost=configured * 2).hash("correct horse battery")
    assert accounts._verify(stronger, "correct horse battery")
