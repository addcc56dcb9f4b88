"""Errors the application raises besides the domain's."""

from __future__ import annotations

from domain.errors import N_, DomainError, NotFound


class NotAuthenticated(DomainError):
    template = N_("no open session: log in with 'brigada login USER'")


class SessionExpired(DomainError):
    template = N_("the session expired ({reason}): log in again")


class StoreNotInitialized(DomainError):
    template = N_("this store is not initialized: run 'brigada init --central' or 'brigada init --site CODE'")


class StoreAlreadyInitialized(DomainError):
    template = N_("this store is already initialized as {role} {site}")


class PatientNotFound(NotFound):
    template = N_("no patient with chart number {chart_number}")


class DuplicateDocument(DomainError):
    template = N_("{document_type} {document_number} is already registered as chart {chart_number}")


class MenuDenied(DomainError):
    template = N_("you have no access to menu option {option} ({label})")


class SectionDenied(DomainError):
    template = N_("you have no access to the visit section {section} ({label})")


class AdministratorOnly(DomainError):
    template = N_("only an administrator can {action}")


class OwnRecordOnly(DomainError):
    template = N_("you can open only your own user record ({username})")


class CentralOnly(DomainError):
    template = N_("{action} is done on the central server, not on a site's laptop")


class UserNotFound(NotFound):
    template = N_("no user named {username}")


class UsernameTaken(DomainError):
    template = N_("there is already a user named {username}")


class NotYourself(DomainError):
    template = N_("you cannot {action} yourself")


class WrongCurrentPassword(DomainError):
    template = N_("the current password is not right")


class PolicyNeedsSecondFactor(DomainError):
    template = N_("the password policy requires a second factor for administrators: {username} keeps it")
