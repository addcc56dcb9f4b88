"""Pydantic validation, with its errors turned into our one-line, translatable messages."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from domain.errors import N_, InvalidValue, Msgid

M = TypeVar("M", bound=BaseModel)


class Command(BaseModel):
    """Base of every command model: strict about unknown fields, trims text."""

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True, extra="forbid")


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
