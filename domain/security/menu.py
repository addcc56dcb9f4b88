"""Menu access (seed 004, "Acceso a menú"): a tree with one option per CLI command group and
command, and a user's grants as a set of option ids.

Ids are dotted paths (``patient.register``); an option's parent is the path without its last
part. Granting an option grants its ancestors (a command is reached through its group) and all its
descendants; revoking one revokes all its descendants. So no option is ever open under a closed
parent, and the check is deny by default.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from domain.errors import N_, InvalidValue


@dataclass(frozen=True)
class MenuOption:
    id: str
    label: str  # an English msgid; shown translated (Spanish by default)

    @property
    def parent(self) -> str | None:
        head, _dot, _tail = self.id.rpartition(".")
        return head or None

    @property
    def depth(self) -> int:
        return self.id.count(".")


# In the order the tree is shown, depth first: each option right after its parent or after an
# earlier sibling's sub-options (``in_tree_order`` checks it), so a printed tree puts it under
# its own parent.
MENU: tuple[MenuOption, ...] = (
    MenuOption("patient", N_("Patients")),
    MenuOption("patient.register", N_("Register a patient")),
    MenuOption("patient.correct", N_("Correct a patient")),
    MenuOption("patient.show", N_("Show a patient")),
    MenuOption("patient.search", N_("Search patients")),
    MenuOption("patient.contract", N_("Payer contracts")),
    MenuOption("patient.contract.add", N_("Assign a payer contract")),
    MenuOption("patient.contract.end", N_("End a payer contract")),
    MenuOption("patient.chart", N_("Show a patient's chart")),
    MenuOption("patient.duplicates", N_("Duplicate charts")),
    MenuOption("patient.merge", N_("Merge charts")),
    MenuOption("agenda", N_("Agendas")),
    MenuOption("agenda.plan", N_("Plan an agenda")),
    MenuOption("agenda.show", N_("Show an agenda")),
    MenuOption("appointment", N_("Appointments")),
    MenuOption("appointment.book", N_("Book an appointment")),
    MenuOption("appointment.confirm", N_("Confirm an appointment")),
    MenuOption("appointment.cancel", N_("Cancel an appointment")),
    MenuOption("appointment.no-show", N_("Record a no-show")),
    MenuOption("admission", N_("Admissions")),
    MenuOption("admission.admit", N_("Admit a patient")),
    MenuOption("admission.discharge", N_("Discharge a patient")),
    MenuOption("admission.list", N_("List admissions")),
    MenuOption("user", N_("Users")),
    MenuOption("user.create", N_("Create a user")),
    MenuOption("user.update", N_("Update a user")),
    MenuOption("user.deactivate", N_("Deactivate a user")),
    MenuOption("user.reactivate", N_("Reactivate a user")),
    MenuOption("user.list", N_("List users")),
    MenuOption("user.show", N_("Show a user")),
    MenuOption("user.reset-password", N_("Reset a password")),
    MenuOption("user.unlock", N_("Unlock a user")),
    MenuOption("user.unlock-code", N_("Offline unlock code")),
    MenuOption("user.access", N_("Menu access")),
    MenuOption("user.sections", N_("Visit sections")),
    MenuOption("user.totp", N_("Second factor (TOTP)")),
    MenuOption("policy", N_("Policies")),
    MenuOption("policy.password", N_("Password policy")),
    MenuOption("policy.password.show", N_("Show the password policy")),
    MenuOption("policy.password.set", N_("Change the password policy")),
    MenuOption("policy.locks", N_("Time-based locks")),
    MenuOption("policy.locks.show", N_("Show the locks")),
    MenuOption("policy.locks.set", N_("Change the locks")),
    MenuOption("access", N_("Menu access by option")),
    MenuOption("access.who", N_("Who can open an option")),
    MenuOption("access.tree", N_("The whole menu tree")),
    MenuOption("projections", N_("Read models")),
    MenuOption("projections.status", N_("Read model status")),
    MenuOption("projections.rebuild", N_("Rebuild read models")),
    MenuOption("passwd", N_("Change my password")),
    MenuOption("site", N_("Disconnected sites")),
    MenuOption("site.register", N_("Register a site")),
    MenuOption("site.warehouse", N_("Add a field warehouse")),
    MenuOption("site.params", N_("Site parameters and mode")),
    MenuOption("site.revoke", N_("Revoke a site")),
    MenuOption("site.list", N_("List sites")),
    MenuOption("site.show", N_("Show a site")),
    MenuOption("site.provision", N_("Provision a laptop")),
    MenuOption("site.mode", N_("Show the mode")),
    MenuOption("sync", N_("Site synchronization")),
    MenuOption("sync.run", N_("Synchronize this laptop")),
    MenuOption("sync.history", N_("Sync history")),
    MenuOption("sync.conflicts", N_("Sync conflicts")),
    MenuOption("sync.quarantine", N_("Events in quarantine")),
    MenuOption("encounter", N_("Visits")),
    MenuOption("encounter.open", N_("Open a visit")),
    MenuOption("encounter.list", N_("Visit diary")),
    MenuOption("encounter.show", N_("Show a visit")),
    MenuOption("encounter.visit", N_("Change visit data")),
    MenuOption("encounter.paragraph", N_("Report paragraphs")),
    MenuOption("encounter.service", N_("Visit services")),
    MenuOption("encounter.observations", N_("Visit observations")),
    MenuOption("encounter.document", N_("Visit documents")),
    MenuOption("encounter.diagnosis", N_("Diagnoses")),
    MenuOption("encounter.finalize", N_("Finalize a visit")),
    MenuOption("encounter.delete", N_("Delete a visit")),
    MenuOption("encounter.report", N_("Report: view, print, zip")),
    MenuOption("encounter.history", N_("Clinical history: view, print")),
    MenuOption("encounter.form", N_("Print forms")),
    # Orders, pharmacy and inventory.
    MenuOption("catalog", N_("Catalog")),
    MenuOption("catalog.item", N_("Medicines and supplies")),
    MenuOption("catalog.item.add", N_("Add a medicine or supply")),
    MenuOption("catalog.item.list", N_("List medicines and supplies")),
    MenuOption("catalog.item.show", N_("Show a medicine or supply")),
    MenuOption("catalog.service", N_("Services and procedures")),
    MenuOption("catalog.service.add", N_("Add a service or procedure")),
    MenuOption("catalog.service.list", N_("List services and procedures")),
    MenuOption("catalog.price", N_("Prices per payer contract")),
    MenuOption("catalog.price.set", N_("Set a price")),
    MenuOption("catalog.price.list", N_("List prices")),
    MenuOption("warehouse", N_("Warehouses")),
    MenuOption("warehouse.create", N_("Create a warehouse")),
    MenuOption("warehouse.list", N_("List warehouses")),
    MenuOption("inventory", N_("Inventory")),
    MenuOption("inventory.receive", N_("Receive stock (purchase entry)")),
    MenuOption("inventory.transfer", N_("Transfer stock between warehouses")),
    MenuOption("inventory.stock", N_("Stock by lot and expiry")),
    MenuOption("inventory.kardex", N_("Kardex of an item")),
    MenuOption("prescription", N_("Prescriptions")),
    MenuOption("prescription.add", N_("Prescribe a medicine or supply")),
    MenuOption("prescription.list", N_("List prescriptions")),
    MenuOption("prescription.show", N_("Show a prescription")),
    MenuOption("order", N_("Service orders")),
    MenuOption("order.add", N_("Order a service")),
    MenuOption("order.list", N_("List service orders")),
    MenuOption("diagnostic", N_("Diagnostic services")),
    MenuOption("diagnostic.request", N_("Request a diagnostic service")),
    MenuOption("diagnostic.result", N_("Record a diagnostic result")),
    MenuOption("diagnostic.list", N_("List diagnostic services")),
    MenuOption("diagnostic.show", N_("Show a diagnostic service and its result")),
    MenuOption("surgery", N_("Surgeries")),
    MenuOption("surgery.link", N_("Link a surgery to a visit")),
    MenuOption("surgery.list", N_("List surgeries")),
    MenuOption("pharmacy", N_("Pharmacy")),
    MenuOption("pharmacy.request", N_("Request medicines and supplies for a patient")),
    MenuOption("pharmacy.dispense", N_("Dispense")),
    MenuOption("pharmacy.administer", N_("Record a nursing administration")),
    MenuOption("pharmacy.return", N_("Return what was not applied")),
    MenuOption("pharmacy.list", N_("List requests and prescriptions to dispense")),
    MenuOption("pharmacy.show", N_("Show what was dispensed, administered and returned")),
    # Service vouchers and central billing.
    MenuOption("voucher", N_("Service vouchers")),
    MenuOption("voucher.issue", N_("Issue a service voucher")),
    MenuOption("voucher.show", N_("Show a service voucher")),
    MenuOption("voucher.list", N_("List service vouchers")),
    MenuOption("voucher.print", N_("Print a service voucher")),
    MenuOption("voucher.void", N_("Void a service voucher")),
    MenuOption("invoice", N_("Invoicing of disconnected sites")),
    MenuOption("invoice.series", N_("Invoice numbering series")),
    MenuOption("invoice.series.add", N_("Add an invoice numbering series")),
    MenuOption("invoice.series.list", N_("List invoice numbering series")),
    MenuOption("invoice.from-vouchers", N_("Invoice service vouchers")),
    MenuOption("invoice.rectify", N_("Rectify an invoice")),
    MenuOption("invoice.show", N_("Show an invoice")),
    MenuOption("invoice.list", N_("List invoices")),
    MenuOption("invoice.print", N_("Print an invoice")),
    MenuOption("invoice.rips", N_("RIPS of an invoice")),
    MenuOption("audit", N_("Activity log")),
    MenuOption("audit.search", N_("Search and export the activity log")),
    MenuOption("audit.verify", N_("Verify the activity log chain")),
    # Administrators only, whatever a user is granted (Audit.backup checks it): the copy holds
    # every patient's clinical text, past any section a user is denied.
    MenuOption("backup", N_("Backup")),
    MenuOption("upgrade", N_("Upgrade the store to the installed version")),
)

OPTIONS: dict[str, MenuOption] = {option.id: option for option in MENU}
EVERYTHING: frozenset[str] = frozenset(OPTIONS)
CHANGE_MY_PASSWORD = "passwd"


def option(option_id: str) -> MenuOption:
    """The option with this id, or InvalidValue listing the top-level ones."""
    found = OPTIONS.get(option_id.strip().lower())
    if found is None:
        raise InvalidValue(
            "option",
            N_("{option} is not a menu option; the groups are: {groups}"),
            option=option_id,
            groups=", ".join(o.id for o in MENU if o.parent is None),
        )
    return found


def in_tree_order(options: Sequence[MenuOption]) -> bool:
    """Whether each option comes right after its parent or after one of its parent's other
    descendants: printed in this order, with indentation, every option sits under its parent."""
    previous: list[str] = []  # the path from the root to the option before
    for current in options:
        if current.parent is not None and current.parent not in previous:
            return False
        previous = [*ancestors(current.id), current.id]
    return True


def ancestors(option_id: str) -> list[str]:
    parts = option_id.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def descendants(option_id: str) -> list[str]:
    prefix = option_id + "."
    return [o.id for o in MENU if o.id.startswith(prefix)]


def grant(granted: frozenset[str], option_id: str) -> frozenset[str]:
    """The grants after granting an option: it, its ancestors and all its descendants."""
    chosen = option(option_id).id
    return granted | {chosen, *ancestors(chosen), *descendants(chosen)}


def revoke(granted: frozenset[str], option_id: str) -> frozenset[str]:
    """The grants after revoking an option: it and all its descendants are closed."""
    chosen = option(option_id).id
    return granted - {chosen, *descendants(chosen)}


def for_new_user(copied: frozenset[str] = frozenset()) -> frozenset[str]:
    """A new user's grants: those copied from a model user, plus "Change my password", which
    seed 004 asks to leave on when passwords expire (the expiry warning points to it)."""
    return grant(copied, CHANGE_MY_PASSWORD)


def can_open(granted: Iterable[str], option_id: str) -> bool:
    """Deny by default: the option and every ancestor must be granted."""
    granted = set(granted)
    return option_id in granted and all(a in granted for a in ancestors(option_id))


def is_consistent(granted: Iterable[str]) -> bool:
    """Only known options, and none open under a closed parent."""
    granted = set(granted)
    return granted <= EVERYTHING and all(
        OPTIONS[o].parent is None or OPTIONS[o].parent in granted for o in granted
    )
