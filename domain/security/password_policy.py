"""The password policy (seed 004, "Control de usuarios"): every switch the seed names, with the
NIST SP 800-63B profile as the default. One policy per store; until it is set, the default applies.

Weaker settings than the default are allowed (the seed's customers need them) and reported by
``weaknesses()``. ``failures()`` names every rule a password breaks, so one message lists them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace
from itertools import pairwise
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError, InvalidValue, Message

PASSWORD_POLICY_ID: UUID = uuid5(NAMESPACE_URL, "brigada:password-policy")

HISTORY_SIZE = 5  # "no reuse" remembers this many passwords (seed)
EXPIRY_WARNING_DAYS = 15  # warn at every login when this many days or fewer are left (seed)
NIST_MIN_LENGTH = 15  # single-factor passwords (SP 800-63B rev 4)
NIST_ACCEPTED_LENGTH = 64  # verifiers SHOULD accept at least this many characters
NIST_MAX_ATTEMPTS = 100  # at most this many consecutive failures
CONTEXT_WORD_MIN = 4  # shorter context words (user "ana") count only as the whole password

RULE_MIN_LENGTH = N_("needs at least {n} characters (it has {length})")
RULE_MAX_LENGTH = N_("may have at most {n} characters (it has {length})")
RULE_LETTERS = N_("needs a letter")
RULE_DIGITS = N_("needs a digit")
RULE_SYMBOLS = N_("needs a character that is neither a letter nor a digit")
RULE_REUSED = N_("is one of your last {n} passwords")
RULE_COMMON = N_("is a commonly used password")
RULE_CONTEXT = N_("contains the word {word}")
RULE_TRIVIAL = N_("is one repeated character or a straight sequence such as 123456 or abcdef")


class PasswordRejected(InvalidValue):
    """A new password breaks the policy; ``failures`` names every rule it breaks (exit 2)."""

    def __init__(self, failures: list[Message]) -> None:
        self.failures = failures
        super().__init__("password", N_("breaks the password policy: {rules}"), rules=failures)


class SecondFactorFirst(DomainError):
    template = N_(
        "enrol your own second factor first ('brigada user totp YOURSELF --enroll'): requiring "
        "it for administrators would lock you out"
    )


@dataclass(frozen=True)
class PasswordPolicySettings:
    """Every switch of the seed. The defaults are the NIST SP 800-63B profile."""

    max_failed_attempts: int = 10  # 0 = unlimited (seed)
    min_length: int = NIST_MIN_LENGTH  # 0 = not checked (seed)
    max_length: int = 128
    validity_days: int = 0  # 0 = passwords never expire (seed)
    require_letters: bool = False
    require_digits: bool = False
    require_symbols: bool = False
    no_reuse: bool = False  # when on: not one of the last HISTORY_SIZE passwords
    blocklist: bool = True
    admin_mfa: bool = False  # administrators need a second factor (TOTP) to log in

    def check(self) -> None:
        """Rules tying settings together; each setting's range is checked on input."""
        if self.min_length > self.max_length:
            raise InvalidValue(
                "min_length",
                N_("cannot be more than the maximum length ({max_length})"),
                max_length=self.max_length,
            )

    def weaknesses(self) -> list[Message]:
        """The settings weaker than the NIST SP 800-63B profile, each as a warning."""
        found: list[Message] = []
        if self.min_length < NIST_MIN_LENGTH:
            found.append(
                Message(
                    N_("minimum length {value} is below the {n} characters of NIST SP 800-63B"),
                    {"value": self.min_length, "n": NIST_MIN_LENGTH},
                )
            )
        if self.max_length < NIST_ACCEPTED_LENGTH:
            found.append(
                Message(
                    N_(
                        "maximum length {value} is below the {n} characters NIST SP 800-63B asks "
                        "to accept (passphrases and password managers)"
                    ),
                    {"value": self.max_length, "n": NIST_ACCEPTED_LENGTH},
                )
            )
        if self.validity_days > 0:
            found.append(
                Message(
                    N_("passwords expire after {value} days: NIST SP 800-63B forbids periodic changes"),
                    {"value": self.validity_days},
                )
            )
        if self.require_letters or self.require_digits or self.require_symbols:
            found.append(Message(N_("composition rules are on: NIST SP 800-63B forbids them"), {}))
        if self.max_failed_attempts == 0:
            found.append(
                Message(
                    N_("failed attempts are unlimited: NIST SP 800-63B allows at most {n}"),
                    {"n": NIST_MAX_ATTEMPTS},
                )
            )
        elif self.max_failed_attempts > NIST_MAX_ATTEMPTS:
            found.append(
                Message(
                    N_("{value} failed attempts allowed: NIST SP 800-63B allows at most {n}"),
                    {"value": self.max_failed_attempts, "n": NIST_MAX_ATTEMPTS},
                )
            )
        if not self.blocklist:
            found.append(
                Message(N_("the blocklist of common passwords is off: NIST SP 800-63B requires it"), {})
            )
        return found

    def failures(
        self,
        password: str,
        *,
        context_words: Iterable[str] = (),
        is_common: bool = False,
        reused: bool = False,
    ) -> list[Message]:
        """Every rule ``password`` breaks. ``is_common`` and ``reused`` are looked up by the
        caller (a shipped list, the stored hashes); the rest is decided here."""
        found: list[Message] = []
        length = len(password)
        if self.min_length and length < self.min_length:
            found.append(Message(RULE_MIN_LENGTH, {"n": self.min_length, "length": length}))
        if length > self.max_length:
            found.append(Message(RULE_MAX_LENGTH, {"n": self.max_length, "length": length}))
        if self.require_letters and not any(c.isalpha() for c in password):
            found.append(Message(RULE_LETTERS, {}))
        if self.require_digits and not any(c.isdigit() for c in password):
            found.append(Message(RULE_DIGITS, {}))
        if self.require_symbols and all(c.isalnum() for c in password):
            found.append(Message(RULE_SYMBOLS, {}))
        if self.no_reuse and reused:
            found.append(Message(RULE_REUSED, {"n": HISTORY_SIZE}))
        if self.blocklist:
            if is_common:
                found.append(Message(RULE_COMMON, {}))
            for word in contained_words(password, context_words):
                found.append(Message(RULE_CONTEXT, {"word": word}))
            if is_trivial(password):
                found.append(Message(RULE_TRIVIAL, {}))
        return found

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PasswordPolicySettings:
        """Settings from a stored event; a setting added later takes its default."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def changed(self, **changes: Any) -> PasswordPolicySettings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


DEFAULT_SETTINGS = PasswordPolicySettings()


def contained_words(password: str, words: Iterable[str]) -> list[str]:
    """The context words (user name, program name) found inside the password, ignoring case."""
    folded = password.casefold()
    found: list[str] = []
    for word in words:
        key = word.casefold()
        inside = key in folded if len(key) >= CONTEXT_WORD_MIN else key == folded
        if key and inside and word not in found:
            found.append(word)
    return found


DIGITS = "0123456789"
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def is_trivial(password: str) -> bool:
    """One character repeated (aaaaaaaaaaaaaaa) or a straight run up or down, where digits wrap
    around (123456789012345, 987654321098765, abcdefghijklmno). Letter case is ignored."""
    if not password:
        return False
    steps = {_step(a, b) for a, b in pairwise(password.casefold())}
    return len(steps) <= 1 and steps <= {0, 1, -1}


def _step(a: str, b: str) -> int:
    """0 for the same character, +1 or -1 for neighbours in 0-9 (wrapping) or a-z, else 99."""
    if a == b:
        return 0
    if a in DIGITS and b in DIGITS:
        return {1: 1, 9: -1}.get((int(b) - int(a)) % 10, 99)
    if a in LETTERS and b in LETTERS and abs(ord(b) - ord(a)) == 1:
        return ord(b) - ord(a)
    return 99


class PasswordPolicy(BrigadaAggregate):
    """The store's password policy. Every change records all the settings."""

    TOPIC = "brigada.PasswordPolicy"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.PasswordPolicy.Event"

    class Started(BrigadaAggregate.Created):
        TOPIC = "brigada.PasswordPolicy.Started"

    class Set(Event):
        TOPIC = "brigada.PasswordPolicy.Set"
        settings: dict[str, Any]

    @staticmethod
    def create_id() -> UUID:
        return PASSWORD_POLICY_ID

    @event(Started)
    def __init__(self) -> None:
        self.settings = DEFAULT_SETTINGS

    def set(self, settings: PasswordPolicySettings, *, actor_has_second_factor: bool) -> bool:
        """Record new settings; False when they are the ones in force (nothing recorded)."""
        settings.check()
        if settings.admin_mfa and not self.settings.admin_mfa and not actor_has_second_factor:
            raise SecondFactorFirst()
        if settings == self.settings:
            return False
        self._set(settings=settings.as_dict())
        return True

    @event(Set)
    def _set(self, settings: dict[str, Any]) -> None:
        self.settings = PasswordPolicySettings.from_dict(settings)
