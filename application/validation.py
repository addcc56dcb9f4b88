"""Pydantic validation, with its errors turned into our one-line, translatable messages."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from domain.errors import N_, InvalidValue, Msgid

M = TypeVar("M", bound=BaseModel)

# Hostile text: characters that move the cursor, clear a terminal, reorder what is shown (the
# "Trojan Source" bidi overrides U+202A-202E and U+2066-2069) or hide in plain sight (zero-width
# spaces, soft hyphens) are controls (Cc), formats (Cf), stray surrogates (Cs, from undecodable
# bytes) and the Unicode line and paragraph separators (Zl, Zp). None is ever stored.
HOSTILE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Clinical long text (a report paragraph, observations, a result) keeps its lines and tabs.
CLINICAL_LAYOUT = frozenset("\n\t")
ONE_LINE_BREAKERS = frozenset("\n\r\t\v\f\x85\u2028\u2029")
# After NFC, Spanish and the other Latin scripts need no combining mark at all (every accented
# letter has a composed form); the rare letters without one (Yoruba, Hebrew points) take one or
# two. A third in a row is "Zalgo" text that spills over the lines above and below it.
MAX_COMBINING_RUN = 2


class LineBreaksAllowed:
    """Marks a text field as clinical long text: newlines and tabs are kept."""


ClinicalText = Annotated[str, LineBreaksAllowed()]


def text_refusal(text: str, line_breaks: bool = False) -> tuple[str, dict[str, Any]] | None:
    """Why ``text`` (already NFC) may not be stored, as a MESSAGES key and its parameters."""
    run = 0
    for char in text:
        if line_breaks and char in CLINICAL_LAYOUT:
            run = 0
            continue
        if not line_breaks and char in ONE_LINE_BREAKERS:
            return "text_line_break", {}
        category = unicodedata.category(char)
        if category in HOSTILE_CATEGORIES:
            return "text_control", {"codepoint": f"U+{ord(char):04X}"}
        run = run + 1 if category in ("Mn", "Me") else 0
        if run > MAX_COMBINING_RUN:
            return "text_combining_marks", {"limit": MAX_COMBINING_RUN}
    return None


def safe_text(field: str, text: str, line_breaks: bool = False) -> str:
    """``text`` trimmed and NFC-normalized, or an InvalidValue naming ``field``: for text a use
    case takes without a command model."""
    try:
        return str(_normalized(text, line_breaks))
    except PydanticCustomError as error:
        raise InvalidValue(field, MESSAGES[error.type], **(error.context or {})) from None


def _normalized(value: Any, line_breaks: bool) -> Any:
    if isinstance(value, list | tuple):
        return type(value)(_normalized(v, line_breaks) for v in value)
    if not isinstance(value, str):
        return value
    text = unicodedata.normalize("NFC", value.strip())
    if line_breaks:  # a file written on Windows ends its lines with CR LF
        text = text.replace("\r\n", "\n")
    refusal = text_refusal(text, line_breaks)
    if refusal is not None:
        kind, params = refusal
        raise PydanticCustomError(kind, MESSAGES[kind], params)
    return text


class Command(BaseModel):
    """Base of every command model: strict about unknown fields, trims text, and refuses hostile
    text in every field (see ``text_refusal``) before the field's own rules see it."""

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True, extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_hostile_text(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        line_breaks = field is not None and any(isinstance(m, LineBreaksAllowed) for m in field.metadata)
        return _normalized(value, line_breaks)


MESSAGES: dict[str, str] = {
    "missing": N_("is required"),
    "string_too_short": N_("must have at least {min_length} characters"),
    "string_too_long": N_("must have at most {max_length} characters"),
    "string_pattern_mismatch": N_("must be {hint}"),
    "enum": N_("must be one of: {expected}"),
    "date_parsing": N_("must be a date in the form YYYY-MM-DD"),
    "date_from_datetime_parsing": N_("must be a date in the form YYYY-MM-DD"),
    "date_type": N_("must be a date in the form YYYY-MM-DD"),
    "int_parsing": N_("must be a whole number"),
    "int_type": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "greater_than_equal": N_("must be at least {ge}"),
    "less_than_equal": N_("must be at most {le}"),
    "bool_parsing": N_("must be on or off"),
    "bool_type": N_("must be on or off"),
    "extra_forbidden": N_("is not a field of this command"),
    "text_line_break": N_("must be on one line, without tabs"),
    "text_control": N_("must not contain control or invisible characters (found {codepoint})"),
    "text_combining_marks": N_("must not stack more than {limit} accents or marks on one letter"),
}
FALLBACK = N_("is not valid")
FORMAT_HINT = N_("in the expected format")


def parse(model: type[M], data: dict[str, Any]) -> M:
    """Validate ``data``; the first problem becomes an InvalidValue naming the field and rule."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "input"
        params = dict(first.get("ctx") or {})
        if first["type"] == "string_pattern_mismatch":
            info = model.model_fields.get(str(first["loc"][0])) if first["loc"] else None
            params["hint"] = Msgid(info.description) if info and info.description else FORMAT_HINT
        if first["type"] == "enum" and "expected" in params:
            params["expected"] = str(params["expected"]).replace("'", "").replace(" or ", ", ")
        template = MESSAGES.get(first["type"], FALLBACK)
        try:
            template.format(**params)
        except (KeyError, IndexError):
            template, params = FALLBACK, {}
        raise InvalidValue(field, template, **params) from None
