"""Public references: random, never derived from a case number or a database id."""

import secrets

# Crockford's base32 without I, L, O, U: easy to read aloud and to type.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 10  # 32**10 ≈ 1.1e15 references per prefix
assert len(ALPHABET) == 32  # new_ref picks a character by 5 bits


def new_ref(prefix: str) -> str:
    # One read of the system's random source per reference, not one per character (a match
    # run makes thousands): 32 divides 256, so each byte's low 5 bits pick a character with
    # no bias, as secrets.choice would.
    return f"{prefix}-" + "".join(ALPHABET[byte & 31] for byte in secrets.token_bytes(LENGTH))
