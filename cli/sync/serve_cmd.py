"""brigada serve: central's sync service for the laptops (HTTPS), and its certificate."""

from __future__ import annotations

from pathlib import Path

import click

from adapters.bootstrap import require_serving_store, serve_sync
from adapters.store import StoreLocation
from adapters.sync.site_credentials import fingerprint, self_signed
from cli.base import Command
from cli.env import Env, pass_env
from cli.i18n import N_, _
from domain.errors import InvalidValue


def parse_bind(bind: str) -> tuple[str, int]:
    host, _sep, port = bind.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidValue("--bind", N_("HOST:PORT, for example 127.0.0.1:8443"))
    return host.strip("[]"), int(port)


@click.command(
    "serve",
    cls=Command,
    help=N_("Central: serve the laptops' sync over HTTPS (and nothing else)."),
)
@click.option(
    "--bind", default="127.0.0.1:8443", show_default=True, help=N_("Address and port to listen on.")
)
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), help=N_("TLS certificate (PEM)."))
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), help=N_("TLS private key (PEM)."))
@click.option(
    "--proxy-headers", is_flag=True, help=N_("Behind a reverse proxy that terminates TLS: trust its headers.")
)
@click.option(
    "--workers", type=click.IntRange(1, 32), default=1, show_default=True, help=N_("Processes (PostgreSQL).")
)
@click.option(
    "--new-certificate",
    "new_certificate",
    type=click.Path(file_okay=False),
    help=N_("Write a self-signed certificate and key for --host into this folder, and stop."),
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help=N_("The name or address laptops use (with --new-certificate)."),
)
@pass_env
def serve(
    env: Env,
    bind: str,
    tls_cert: str | None,
    tls_key: str | None,
    proxy_headers: bool,
    workers: int,
    new_certificate: str | None,
    host: str,
) -> None:
    if new_certificate:
        cert, key = self_signed(Path(new_certificate), host)
        env.say(
            _("Certificate {cert} and key {key} written (SHA-256 {fingerprint})").format(
                cert=cert, key=key, fingerprint=fingerprint(cert.read_text())
            )
        )
        return
    address, port = parse_bind(bind)
    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError(_("--tls-cert and --tls-key go together"))
    if not tls_cert and not proxy_headers:
        raise click.UsageError(
            _("brigada serve needs --tls-cert and --tls-key, or --proxy-headers behind a TLS proxy")
        )
    location = StoreLocation.parse(env.store_url)
    if workers > 1 and location.kind != "postgresql":
        raise InvalidValue("--workers", N_("more than one worker needs a PostgreSQL store"))
    require_serving_store(env.store_url)
    env.say(
        _("Serving the sync at {scheme}://{address}:{port}").format(
            scheme="https" if tls_cert else "http", address=address, port=port
        )
    )
    serve_sync(
        env.store_url,
        address=address,
        port=port,
        tls_cert=tls_cert,
        tls_key=tls_key,
        proxy_headers=proxy_headers,
        workers=workers,
    )
