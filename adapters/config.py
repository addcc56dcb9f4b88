"""Where things are: the store URL (--store, BRIGADA_STORE, config file, default) and folders."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import platformdirs

APP = "brigada"


def data_dir() -> Path:
    return Path(os.environ.get("BRIGADA_HOME") or platformdirs.user_data_dir(APP))


def config_file() -> Path:
    explicit = os.environ.get("BRIGADA_CONFIG")
    if explicit:
        return Path(explicit)
    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


def session_dir() -> Path:
    return data_dir() / "sessions"


def resolve_store_url(option: str | None) -> str:
    """--store, then BRIGADA_STORE, then ``store = "..."`` in the config file, then the default."""
    if option:
        return option
    from_env = os.environ.get("BRIGADA_STORE")
    if from_env:
        return from_env
    path = config_file()
    if path.is_file():
        with path.open("rb") as handle:
            configured = tomllib.load(handle).get("store")
        if configured:
            return str(configured)
    return f"sqlite:///{data_dir() / 'brigada.db'}"
