"""The password policy as pure rules: every switch, the weaker-than-default warnings, and the
failures of random passwords against a plain model of the seed's rules. No database, no hashing."""

from __future__ import annotations

import string
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.security.blocklist import CommonPasswords
from domain.context import EventContext, recording
from domain.errors import InvalidValue
from domain.security.password_policy import (
    DEFAULT_SETTINGS,
    RULE_COMMON,
    RULE_CONTEXT,
    RULE_DIGITS,
    RULE_LETTERS,
    RULE_MAX_LENGTH,
    RULE_MIN_LENGTH,
    RULE_REUSED,
    RULE_SYMBOLS,
    RULE_TRIVIAL,
    PasswordPolicy,
    PasswordPolicySettings,
    PasswordRejected,
    SecondFactorFirst,
    is_trivial,
)
from domain.security.passwords import check_new_password

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
GOOD = "lluvia-sobre-el-rio-cauca"  # 25 characters, no digit, no capital, a symbol


def context() -> EventContext:
    return EventContext(uuid.uuid4(), "CEN", "admin", "pc", 7, NOW, date(2026, 3, 1))


def rules(settings: PasswordPolicySettings, password: str, **kwargs: Any) -> list[str]:
    return [m.template for m in settings.failures(password, **kwargs)]


# -- the default profile ------------------------------------------------------------------------
def test_the_default_profile_is_nist_sp_800_63b() -> None:
    assert (
        PasswordPolicySettings(
            max_failed_attempts=10,
            min_length=15,
            max_length=128,
            validity_days=0,
            require_letters=False,
            require_digits=False,
            require_symbols=False,
            no_reuse=False,
            blocklist=True,
            admin_mfa=False,
        )
        == DEFAULT_SETTINGS
    )
    assert DEFAULT_SETTINGS.weaknesses() == []


def test_a_long_passphrase_passes_the_default_profile() -> None:
    assert rules(DEFAULT_SETTINGS, GOOD, context_words=("ana", "brigada")) == []
    assert rules(DEFAULT_SETTINGS, "x" * 14 + "ñ" * 114) == []  # 128 code points, any script


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"min_length": 8}, "minimum length {value} is below the {n} characters of NIST SP 800-63B"),
        ({"min_length": 0}, "minimum length {value} is below the {n} characters of NIST SP 800-63B"),
        ({"max_length": 15}, "maximum length {value} is below the {n} characters NIST SP 800-63B"),
        ({"validity_days": 90}, "passwords expire after {value} days"),
        ({"require_letters": True}, "composition rules are on"),
        ({"require_digits": True}, "composition rules are on"),
        ({"require_symbols": True}, "composition rules are on"),
        ({"max_failed_attempts": 0}, "failed attempts are unlimited"),
        ({"max_failed_attempts": 101}, "{value} failed attempts allowed"),
        ({"blocklist": False}, "the blocklist of common passwords is off"),
    ],
)
def test_each_setting_weaker_than_the_default_is_reported(change: dict[str, Any], expected: str) -> None:
    [warning] = replace(DEFAULT_SETTINGS, **change).weaknesses()

    assert warning.template.startswith(expected)


@pytest.mark.parametrize(
    "change",
    [
        {"no_reuse": True},
        {"admin_mfa": True},
        {"max_failed_attempts": 1},
        {"max_failed_attempts": 100},
        {"min_length": 20},
        {"max_length": 64},
    ],
)
def test_settings_as_strict_as_the_default_are_not_warned_about(change: dict[str, Any]) -> None:
    assert replace(DEFAULT_SETTINGS, **change).weaknesses() == []


def test_the_seed_profile_gets_every_warning_at_once() -> None:
    seed = PasswordPolicySettings(
        max_failed_attempts=0,
        min_length=0,
        max_length=15,
        validity_days=30,
        require_letters=True,
        require_digits=True,
        require_symbols=True,
        no_reuse=True,
        blocklist=False,
    )
    assert len(seed.weaknesses()) == 6


def test_a_minimum_above_the_maximum_is_invalid() -> None:
    with pytest.raises(InvalidValue) as refused:
        replace(DEFAULT_SETTINGS, min_length=20, max_length=16).check()
    assert refused.value.field == "min_length"


# -- each switch --------------------------------------------------------------------------------
def test_minimum_length_and_zero_turns_it_off() -> None:
    assert rules(DEFAULT_SETTINGS, "a-b-c-d-e-f-g") == [RULE_MIN_LENGTH]
    assert rules(replace(DEFAULT_SETTINGS, min_length=0), "a-b-c-d-e-f-g") == []


def test_maximum_length() -> None:
    assert rules(replace(DEFAULT_SETTINGS, max_length=20), GOOD) == [RULE_MAX_LENGTH]


def test_letters_digits_and_symbols_when_required() -> None:
    strict = replace(DEFAULT_SETTINGS, require_letters=True, require_digits=True, require_symbols=True)
    assert rules(strict, "1234-5678-9012-3456-7") == [RULE_LETTERS]
    assert rules(strict, GOOD) == [RULE_DIGITS]
    assert rules(strict, "lluviasobreelrio7cauca") == [RULE_SYMBOLS]
    assert rules(strict, "lluvia-sobre-el-rio-7") == []
    assert rules(DEFAULT_SETTINGS, "lluviasobreelriocauca") == []  # off by default


def test_reuse_is_refused_only_when_the_switch_is_on() -> None:
    assert rules(DEFAULT_SETTINGS, GOOD, reused=True) == []
    assert rules(replace(DEFAULT_SETTINGS, no_reuse=True), GOOD, reused=True) == [RULE_REUSED]


def test_the_blocklist_refuses_common_context_and_trivial_passwords_and_can_be_turned_off() -> None:
    common = rules(DEFAULT_SETTINGS, GOOD, is_common=True)
    context_word = rules(DEFAULT_SETTINGS, "carolina-va-al-rio", context_words=("carolina",))
    program = rules(DEFAULT_SETTINGS, "mi-Brigada-del-rio", context_words=("brigada",))
    trivial = rules(DEFAULT_SETTINGS, "123456789012345")
    off = replace(DEFAULT_SETTINGS, blocklist=False)

    assert (common, context_word, program, trivial) == (
        [RULE_COMMON],
        [RULE_CONTEXT],
        [RULE_CONTEXT],
        [RULE_TRIVIAL],
    )
    assert rules(off, "123456789012345", is_common=True, context_words=("1234",)) == []


def test_a_short_user_name_counts_only_as_the_whole_password() -> None:
    assert rules(DEFAULT_SETTINGS, "banana-con-arequipe", context_words=("ana",)) == []
    assert rules(replace(DEFAULT_SETTINGS, min_length=0), "ANA", context_words=("ana",)) == [RULE_CONTEXT]


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaaaaaaa",
        "AaAaAaAaAaAaAaA",
        "123456789012345",
        "987654321098765",
        "abcdefghijklmnop",
        "ZYXWVUTSRQPONML",
        "7",
    ],
)
def test_repeated_characters_and_straight_sequences_are_trivial(password: str) -> None:
    assert is_trivial(password)


@pytest.mark.parametrize("password", ["", "1357913579135", "abcabcabcabcabc", "-./0123", GOOD])
def test_other_passwords_are_not_trivial(password: str) -> None:
    assert not is_trivial(password)


def test_a_rejection_names_every_rule_broken_and_never_the_password() -> None:
    with pytest.raises(PasswordRejected) as refused:
        check_new_password(
            "ana123",
            replace(DEFAULT_SETTINGS, require_symbols=True),
            username="ana123",
            is_common=True,
        )

    error = refused.value
    assert error.field == "password"
    assert [m.template for m in error.failures] == [
        RULE_MIN_LENGTH,
        RULE_SYMBOLS,
        RULE_COMMON,
        RULE_CONTEXT,
    ]
    assert error.failures[0].params == {"n": 15, "length": 6}
    assert error.params["rules"] == error.failures
    assert all("ana123" not in str(m.params.get("length", "")) for m in error.failures)


# -- the shipped blocklist ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "password",
    [
        "password",
        "Password2026!!!!",
        "p@ssw0rd123456789",
        "qwertyuiop12345",
        "Colombia2026*****",
        "1qaz2wsx3edc4rfv",
        "contraseña",
    ],
)
def test_the_shipped_blocklist_knows_common_passwords_and_their_obvious_variants(password: str) -> None:
    assert CommonPasswords().is_common(password)


@pytest.mark.parametrize("password", [GOOD, "correct-horse-battery-staple", "abc1234567890123"])
def test_the_shipped_blocklist_lets_uncommon_passwords_through(password: str) -> None:
    assert not CommonPasswords().is_common(password)


# -- the policy aggregate -----------------------------------------------------------------------
def test_a_policy_records_all_its_settings_each_time_it_is_set() -> None:
    with recording(context()):
        policy = PasswordPolicy()
        changed = policy.set(replace(DEFAULT_SETTINGS, min_length=12), actor_has_second_factor=False)

    started, set_event = policy.collect_events()
    assert changed is True
    assert isinstance(set_event, PasswordPolicy.Set)
    assert set_event.settings == {**DEFAULT_SETTINGS.as_dict(), "min_length": 12}
    rebuilt = set_event.mutate(started.mutate(None))
    assert isinstance(rebuilt, PasswordPolicy)
    assert rebuilt.settings == replace(DEFAULT_SETTINGS, min_length=12)


def test_setting_the_settings_in_force_records_nothing() -> None:
    with recording(context()):
        policy = PasswordPolicy()
        policy.collect_events()
        assert policy.set(DEFAULT_SETTINGS, actor_has_second_factor=False) is False
    assert policy.collect_events() == []


def test_requiring_a_second_factor_for_admins_needs_one_on_the_acting_admin() -> None:
    with recording(context()):
        policy = PasswordPolicy()
        with pytest.raises(SecondFactorFirst):
            policy.set(replace(DEFAULT_SETTINGS, admin_mfa=True), actor_has_second_factor=False)
        assert policy.set(replace(DEFAULT_SETTINGS, admin_mfa=True), actor_has_second_factor=True)


def test_settings_stored_before_a_switch_existed_take_its_default() -> None:
    old = {k: v for k, v in DEFAULT_SETTINGS.as_dict().items() if k != "admin_mfa"}
    assert PasswordPolicySettings.from_dict({**old, "retired_switch": 1}) == DEFAULT_SETTINGS


# -- random passwords against a plain model of the rules ----------------------------------------
LETTERS = set(string.ascii_letters + "ñÑáéíóúü")
DIGITS = set(string.digits)
ALPHABET = "".join(sorted(LETTERS | DIGITS)) + " -_.!@*"
RUNS = ("0123456789" * 20, "abcdefghijklmnopqrstuvwxyz")


def model(s: PasswordPolicySettings, password: str, username: str, common: bool, reused: bool) -> list[str]:
    """The seed's rules and the note's blocklist, written out plainly."""
    lowered = password.lower()
    broken = []
    if s.min_length > 0 and len(password) < s.min_length:
        broken.append(RULE_MIN_LENGTH)
    if len(password) > s.max_length:
        broken.append(RULE_MAX_LENGTH)
    if s.require_letters and not set(password) & LETTERS:
        broken.append(RULE_LETTERS)
    if s.require_digits and not set(password) & DIGITS:
        broken.append(RULE_DIGITS)
    if s.require_symbols and set(password) <= LETTERS | DIGITS:
        broken.append(RULE_SYMBOLS)
    if s.no_reuse and reused:
        broken.append(RULE_REUSED)
    if s.blocklist:
        if common:
            broken.append(RULE_COMMON)
        for word in (username, "brigada"):
            if (len(word) >= 4 and word in lowered) or word == lowered:
                broken.append(RULE_CONTEXT)
        straight = any(lowered in run or lowered in run[::-1] for run in RUNS)
        if password and (len(set(lowered)) == 1 or straight):
            broken.append(RULE_TRIVIAL)
    return broken


settings_strategy = st.builds(
    PasswordPolicySettings,
    max_failed_attempts=st.integers(0, 200),
    min_length=st.integers(0, 30),
    max_length=st.integers(8, 40),
    validity_days=st.integers(0, 400),
    require_letters=st.booleans(),
    require_digits=st.booleans(),
    require_symbols=st.booleans(),
    no_reuse=st.booleans(),
    blocklist=st.booleans(),
    admin_mfa=st.booleans(),
)
password_strategy = st.one_of(
    st.text(alphabet=ALPHABET, max_size=45),
    st.sampled_from(RUNS).flatmap(
        lambda run: st.tuples(st.integers(0, 20), st.integers(1, 30), st.booleans()).map(
            lambda t: (run[t[0] : t[0] + t[1]])[:: -1 if t[2] else 1]
        )
    ),
    st.tuples(st.sampled_from("aZ7-ñ"), st.integers(1, 30)).map(lambda t: t[0] * t[1]),
    st.sampled_from(["x-carolina-x", "BRIGADA", "beto", "mi brigada de salud 2026"]),
)


@given(
    settings=settings_strategy,
    password=password_strategy,
    username=st.sampled_from(["ana", "beto", "carolina"]),
    common=st.booleans(),
    reused=st.booleans(),
)
def test_random_passwords_fail_exactly_the_rules_of_the_plain_model(
    settings: PasswordPolicySettings, password: str, username: str, common: bool, reused: bool
) -> None:
    found = rules(
        settings,
        password,
        context_words=(username, "brigada"),
        is_common=common,
        reused=reused,
    )
    assert found == model(settings, password, username, common, reused)


@given(settings=settings_strategy)
def test_warnings_name_exactly_the_settings_weaker_than_the_default(
    settings: PasswordPolicySettings,
) -> None:
    expected = sum(
        [
            settings.min_length < 15,
            settings.max_length < 64,
            settings.validity_days > 0,
            settings.require_letters or settings.require_digits or settings.require_symbols,
            settings.max_failed_attempts == 0 or settings.max_failed_attempts > 100,
            not settings.blocklist,
        ]
    )
    assert len(settings.weaknesses()) == expected
    assert PasswordPolicySettings.from_dict(settings.as_dict()) == settings
