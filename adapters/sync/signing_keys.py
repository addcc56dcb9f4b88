"""application/ports.SigningKeys, light to build: every store opened gets one, few make a key."""

from __future__ import annotations


class Ed25519Keys:
    """application/ports.SigningKeys: cryptography is loaded when a pair is made (provisioning)."""

    def new_pair(self) -> tuple[bytes, str]:
        from adapters.sync.site_credentials import new_signing_key

        return new_signing_key()
