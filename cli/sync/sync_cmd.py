"""brigada sync [--central URL] [--dry-run] [--json] | sync history | sync conflicts | sync quarantine."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from adapters.bootstrap import preflight_sync, sync_laptop
from application.sync.laptop import SyncOutcome, SyncPlan
from cli.base import Command, group
from cli.env import Env, pass_env
from cli.exit_codes import Exit
from cli.i18n import N_, _, ngettext
from cli.options import json_option
from domain.sites.site import SiteMode
from domain.sync.sync import FUNCTION_LABELS, ConflictKeep, StepCount, SyncFunction
from domain.sync.sync_trust import RULE_TEXTS, TrustRule
from projections.sync.sync_refusals import SyncRefusalRow

REBUILD_BAR = N_("Rebuilding the laptop")
CROSSING_NAMES = {"end-of-mission": N_("end of mission"), "start-of-mission": N_("start of mission")}
MODE_NAMES = {SiteMode.ON_SITE: N_("INS (on site)"), SiteMode.ON_MISSION: N_("MSN (on mission)")}
STAGES = {
    "flip": N_("Changing the site's mode on central"),
    "rebuild": N_("Rebuilding this laptop's store from central"),
    "swap": N_("Putting the rebuilt store in place (the old one is kept as a backup)"),
    "complete": N_("Recording the sync on central"),
}


def mode_name(mode: SiteMode) -> str:
    return _(MODE_NAMES[mode])


def step_line(function: SyncFunction, step: StepCount) -> str:
    """One step of the seed's screen: the function, its records, and the events beside them."""
    label = _(FUNCTION_LABELS[function])
    records = ngettext("{n} record", "{n} records", step.records).format(n=step.records)
    if not step.events:
        return _("{function}: {records}").format(function=label, records=records)
    events = ngettext("{n} event", "{n} events", step.events).format(n=step.events)
    return _("{function}: {records} ({events})").format(function=label, records=records, events=events)


class Display:
    """The seed's screen: the mode at the top, then each step with its function and count.
    Progress bars on a terminal; one line per step otherwise; nothing with --json."""

    def __init__(self, env: Env, quiet: bool) -> None:
        self.env = env
        self.quiet = quiet
        self.bars = sys.stderr.isatty() and not quiet
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=env.err
        )
        self.tasks: dict[Any, TaskID] = {}
        self.plan: SyncPlan | None = None

    def say(self, text: str) -> None:
        if not self.quiet:
            self.env.say(text)

    def planned(self, plan: SyncPlan) -> None:
        self.plan = plan
        self.say(_("Operating mode: {mode}").format(mode=mode_name(plan.mode)))
        step = _("End of mission") if plan.new_mode is SiteMode.ON_SITE else _("Start of mission")
        n = plan.total_records
        self.say(
            ngettext(
                "{step} for site {site}: {n} record to synchronize",
                "{step} for site {site}: {n} records to synchronize",
                n,
            ).format(step=step, site=plan.site, n=n)
        )
        if self.bars:
            self.progress.start()
            for function, counted in plan.steps.items():  # every step, zeros included
                self.tasks[function] = self.progress.add_task(
                    step_line(function, counted), total=counted.events
                )

    def merged(self, function: SyncFunction, count: int) -> None:
        if function in self.tasks:
            self.progress.advance(self.tasks[function], count)

    def stage(self, stage: str, done: int = 0, total: int = 0) -> None:
        if stage == "flip":
            self.steps_done()
        if self.bars and stage == "rebuild":
            if stage not in self.tasks:
                self.tasks[stage] = self.progress.add_task(_(REBUILD_BAR), total=total)
            self.progress.update(self.tasks[stage], completed=done, total=total)
            return
        if stage == "rebuild":
            if done == total:
                self.say(
                    ngettext("{stage}: {n} record", "{stage}: {n} records", total).format(
                        stage=_(STAGES[stage]), n=total
                    )
                )
            return
        if not self.bars:
            self.say(_(STAGES[stage]))

    def steps_done(self) -> None:
        """Without bars, one line per function once its records are merged, zeros included."""
        if self.bars or self.plan is None:
            return
        for function, step in self.plan.steps.items():
            self.say(step_line(function, step))

    def stop(self) -> None:
        if self.bars:
            self.progress.stop()


def plan_json(plan: SyncPlan) -> dict[str, Any]:
    return {
        "site": plan.site,
        "mode": plan.mode.value,
        "central_mode": plan.central_mode.value,
        "crossing": plan.crossing.value,
        "new_mode": plan.new_mode.value,
        "resuming": plan.resuming,
        "steps": [
            {"function": f.value, "records": step.records, "events": step.events}
            for f, step in plan.steps.items()
        ],
        "total": plan.total,  # events
        "total_records": plan.total_records,
    }


def outcome_json(outcome: SyncOutcome) -> dict[str, Any]:
    return {
        **plan_json(outcome.plan),
        "dry_run": False,
        "merged": {f.value: n for f, n in outcome.merged.items()},
        "reapplied": outcome.reapplied,
        "conflicts": outcome.conflicts,
        "quarantined": outcome.quarantined,
        "rebuilt": outcome.rebuilt,
        "backup": outcome.backup,
        "seconds": round(outcome.seconds, 3),
    }


@group(
    help=N_("Synchronize this laptop with central (end or start of a mission)."),
    invoke_without_command=True,
)
@click.option(
    "--central",
    "central_url",
    envvar="BRIGADA_CENTRAL",
    help=N_("Central's https:// address (brigada serve); by default the one recorded at provisioning."),
)
@click.option("--dry-run", is_flag=True, help=N_("Run the checks and count the records; write nothing."))
@json_option
@click.pass_context
def sync(ctx: click.Context, central_url: str | None, dry_run: bool, as_json: bool) -> None:
    if ctx.invoked_subcommand is not None:
        return
    env: Env = ctx.obj
    actor = env.actor()
    if dry_run:
        dry(env, preflight_sync(env.brigada(), actor, central_url), as_json)
        return
    display = Display(env, quiet=as_json)
    try:
        outcome = sync_laptop(env.brigada(), env.store_url, actor, display, central_url)
    finally:
        display.stop()
    if outcome.laptop is not None:
        env.replace_brigada(outcome.laptop)  # the rebuilt store, now in the old one's place
    if as_json:
        env.emit_json(outcome_json(outcome))
    else:
        report(display, outcome)
    if outcome.quarantined:
        raise click.exceptions.Exit(Exit.QUARANTINE)


def dry(env: Env, plan: SyncPlan, as_json: bool) -> None:
    """The preflight's answer: what a sync would move; nothing written on either side."""
    if as_json:
        env.emit_json({**plan_json(plan), "dry_run": True})
        return
    env.say(_("Operating mode: {mode}").format(mode=mode_name(plan.mode)))
    for function, step in plan.steps.items():
        env.say(step_line(function, step))
    env.say(
        _("Dry run: nothing was written. The sync would change the mode to {mode}").format(
            mode=mode_name(plan.new_mode)
        )
    )


def report(display: Display, outcome: SyncOutcome) -> None:
    """The end of the seed's screen: success only when central applied everything."""
    if outcome.reapplied or outcome.conflicts:
        n, c = outcome.reapplied, outcome.conflicts
        reapplied = ngettext(
            "{n} change to shared records was re-applied on central",
            "{n} changes to shared records were re-applied on central",
            n,
        ).format(n=n)
        conflicts = ngettext("{n} sync conflict to review", "{n} sync conflicts to review", c).format(n=c)
        display.say(f"{reapplied}; {conflicts}")
    if outcome.backup:
        display.say(_("The previous store was kept at {backup}").format(backup=outcome.backup))
    if outcome.quarantined:
        n = outcome.quarantined
        display.say(
            ngettext(
                "Sync completed with {n} event in quarantine",
                "Sync completed with {n} events in quarantine",
                n,
            ).format(n=n)
        )
        display.say(_("An administrator on central reviews them: brigada sync quarantine"))
    else:
        display.say(_("Sync completed successfully"))
    display.say(_("New operating mode: {mode}").format(mode=mode_name(outcome.plan.new_mode)))


HISTORY_COLUMNS = [
    ("started_at", N_("Started")),
    ("site", N_("Site")),
    ("crossing", N_("Step")),
    ("operator", N_("User")),
    ("status", N_("Outcome")),
    ("total", N_("Records")),
    ("conflicts", N_("Conflicts")),
    ("quarantined", N_("In quarantine")),
    ("rebuilt", N_("Rebuilt")),
    ("mode_after", N_("Mode")),
    ("duration_ms", N_("ms")),
]


@sync.command("history", cls=Command, help=N_("Every sync: direction, steps, counts, duration, outcome."))
@click.option("--site", help=N_("Only this site (central)."))
@json_option
@pass_env
def history(env: Env, site: str | None, as_json: bool) -> None:
    actor = env.actor()
    rows = env.brigada().sync.history(actor, site)
    if as_json:
        env.emit_json([history_json(row) for row in rows])
        return
    outcome = {
        "started": _("interrupted"),
        "flipped": _("interrupted"),
        "completed": _("completed"),
        "refused": _("refused"),
    }
    blank = dict.fromkeys((field for field, _heading in HISTORY_COLUMNS), "")
    shown = [
        {
            **blank,
            **row.__dict__,
            "status": outcome[row.status],
            "crossing": _(CROSSING_NAMES[row.crossing]),
            "started_at": row.started_at[:19].replace("T", " "),
        }
        for row in rows
    ]
    env.table(_("Sync history"), [(f, _(h)) for f, h in HISTORY_COLUMNS], shown)
    for row in rows:
        when = f"{row.started_at[:19].replace('T', ' ')} {row.site}"
        if isinstance(row, SyncRefusalRow):
            env.say(f"{when}: {row.message(_)}")
            continue
        merged = json.loads(row.merged)
        if merged:
            steps = ", ".join(
                f"{_(FUNCTION_LABELS[SyncFunction(name)])} {n}"
                for name, n in sorted(
                    merged.items(), key=lambda item: list(SyncFunction).index(SyncFunction(item[0]))
                )
            )
            env.say(f"{when}: {steps}")


def history_json(row: Any) -> dict[str, Any]:
    """A run, or a refused attempt with its reason in the user's language (and as recorded)."""
    if isinstance(row, SyncRefusalRow):
        return {
            **row.__dict__,
            "status": row.status,
            "reason": row.message(_),
            "reason_msgid": row.reason,
            "reason_params": json.loads(row.reason_params),
        }
    return {**row.__dict__, "pending": json.loads(row.pending), "merged": json.loads(row.merged)}


CONFLICT_COLUMNS = [
    ("conflict", N_("Conflict")),
    ("site", N_("Site")),
    ("record", N_("Record")),
    ("reference", N_("Reference")),
    ("field", N_("Field")),
    ("central", N_("Central's value")),
    ("site_value", N_("Site's value (shown)")),
    ("status", N_("Status")),
]


@sync.command(
    "conflicts", cls=Command, help=N_("Fields changed on central and at a site: review, resolve (central).")
)
@click.option("--all", "include_resolved", is_flag=True, help=N_("Include resolved conflicts."))
@click.option("--resolve", "conflict", help=N_("The conflict to resolve (its first characters)."))
@click.option("--keep", type=click.Choice([k.value for k in ConflictKeep]), help=N_("Which value to keep."))
@json_option
@pass_env
def conflicts(
    env: Env, include_resolved: bool, conflict: str | None, keep: str | None, as_json: bool
) -> None:
    actor = env.actor()
    central = env.brigada().sync_central
    if conflict or keep:
        if not (conflict and keep):
            raise click.UsageError(_("--resolve ID and --keep central|site go together"))
        row = central.resolve(actor, conflict, ConflictKeep(keep))
        env.say(
            _("Sync conflict {conflict} resolved: {keep}'s value kept").format(
                conflict=row.conflict_id[:8], keep=keep
            )
        )
        return
    rows = central.list_conflicts(actor, include_resolved)
    if as_json:
        env.emit_json(
            [
                {
                    **row.__dict__,
                    "central_values": json.loads(row.central_values),
                    "site_values": json.loads(row.site_values),
                }
                for row in rows
            ]
        )
        return
    lines = []
    for row in rows:
        theirs, ours = json.loads(row.central_values), json.loads(row.site_values)
        for name in row.fields.split():
            lines.append(
                {
                    "conflict": row.conflict_id[:8],
                    "site": row.site,
                    "record": row.record,
                    "reference": row.reference,
                    "field": name,
                    "central": theirs.get(name, ""),
                    "site_value": ours.get(name, ""),
                    "status": row.status,
                }
            )
    env.table(_("Sync conflicts"), [(f, _(h)) for f, h in CONFLICT_COLUMNS], lines)


QUARANTINE_COLUMNS = [
    ("event", N_("Event")),
    ("site", N_("Site")),
    ("position", N_("Position")),
    ("kind", N_("Kind")),
    ("user", N_("User")),
    ("rule", N_("Rule")),
    ("status", N_("Status")),
]
HOLD_STATUS = {"held": N_("held"), "released": N_("released"), "rejected": N_("rejected")}


def rule_text(rule: str, detail: str) -> str:
    """The rule that held an event, in the user's language."""
    try:
        text = RULE_TEXTS[TrustRule(rule)]
    except ValueError:
        return rule
    params = json.loads(detail) if detail else {}
    return _(text).format(**{k: _(v) if k in ("action", "operation") else v for k, v in params.items()})


@sync.command(
    "quarantine",
    cls=Command,
    help=N_("Laptop events central did not apply: list, show, release or reject them (central)."),
)
@click.option("--site", help=N_("Only this site."))
@click.option("--all", "include_decided", is_flag=True, help=N_("Include released and rejected events."))
@click.option("--show", "shown", metavar="ID", help=N_("Show one held event and its fields."))
@click.option(
    "--release", "released", metavar="ID", help=N_("Apply a held event on central (administrator).")
)
@click.option("--reject", "rejected", metavar="ID", help=N_("Never apply a held event (administrator)."))
@click.option("--reason", help=N_("Why the event is rejected (with --reject)."))
@json_option
@pass_env
def quarantine(
    env: Env,
    site: str | None,
    include_decided: bool,
    shown: str | None,
    released: str | None,
    rejected: str | None,
    reason: str | None,
    as_json: bool,
) -> None:
    actor = env.actor()
    central = env.brigada().sync_central
    if sum(x is not None for x in (shown, released, rejected)) > 1:
        raise click.UsageError(_("--show, --release and --reject go one at a time"))
    if (reason is not None) != (rejected is not None):
        raise click.UsageError(_("--reject ID and --reason TEXT go together"))
    if released or rejected:
        row = (
            central.release(actor, released)
            if released
            else central.reject(actor, rejected or "", reason or "")
        )
        done = _("Event {event} released: applied on central") if released else _("Event {event} rejected")
        env.say(done.format(event=row.quarantine_id[:8]))
        return
    if shown:
        row, fields = central.show_quarantined(actor, shown)
        if as_json:
            env.emit_json({**row.__dict__, "detail": json.loads(row.detail), "fields": fields})
            return
        described = {**_held_line(row), "rule": rule_text(row.rule, row.detail)}
        labels = [(_(heading), described[name]) for name, heading in QUARANTINE_COLUMNS]
        env.record(_("Event in quarantine"), [*labels, *fields.items()])
        return
    rows = central.list_quarantine(actor, site, include_decided)
    if as_json:
        env.emit_json([{**row.__dict__, "detail": json.loads(row.detail)} for row in rows])
        return
    lines = [{**_held_line(row), "rule": rule_text(row.rule, row.detail)} for row in rows]
    env.table(_("Events in quarantine"), [(f, _(h)) for f, h in QUARANTINE_COLUMNS], lines)


def _held_line(row: Any) -> dict[str, Any]:
    return {
        "event": row.quarantine_id[:8],
        "site": row.site,
        "position": row.position,
        "kind": row.kind,
        "user": row.user,
        "status": _(HOLD_STATUS.get(row.status, row.status)),
    }
