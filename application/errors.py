"""Errors the application raises besides the domain's."""

from __future__ import annotations

from domain.errors import N_, DomainError, NotFound


class NotAuthenticated(DomainError):
    template = N_("no open session: log in with 'brigada login USER'")


class SessionExpired(DomainError):
    template = N_("the session expired ({reason}): log in again")


class StoreNotInitialized(DomainError):
    template = N_(
        "this store is not initialized: run 'brigada init --central' or 'brigada init --site CODE'"
    )


class StoreAlreadyInitialized(DomainError):
    template = N_("this store is already initialized as {role} {site}")


class PatientNotFound(NotFound):
    template = N_("no patient with chart number {chart_number}")


class DuplicateDocument(DomainError):
    template = N_("{document_type} {document_number} is already registered as chart {chart_number}")
