"""Cached access to the warehouse for the Streamlit app.

* One ``Warehouse`` per data directory and manifest version (``st.cache_resource``): a new
  load publishes a new manifest version, and the next rerun opens the new warehouse while
  sessions still running on the old one finish. Queries go through ``Warehouse.cursor()``, so
  no DuckDB connection is shared between sessions.
* Every cached result (``st.cache_data``) takes the scope as an ordinary, hashed argument, so
  no result computed for one scope can be served to another.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from ccgi_dash import metrics, views
from ccgi_dash.scope import Scope
from ccgi_dash.settings import Settings, load_settings
from ccgi_dash.store import (
    DataDir,
    Warehouse,
    default_data_dir,
    demo_data_dir,
    read_manifest,
)


def data_dir_for(scope: Scope) -> Path:
    """The data directory a scope may read: the demo's own, or the real one. Decided from the
    scope's dataset, which the server derives from the identity, never from the request."""
    return (demo_data_dir() if scope.dataset == "demo" else default_data_dir()).resolve()


@st.cache_resource(max_entries=4, show_spinner=False)
def _open(root: str, version: int) -> Warehouse:
    return Warehouse(Path(root))


def warehouse(scope: Scope) -> Warehouse:
    """The newest complete warehouse of the scope's data directory."""
    root = data_dir_for(scope)
    version = read_manifest(DataDir(root)).version
    return _open(str(root), version)


@st.cache_data(ttl=300, show_spinner=False)
def _settings(root: str, mtime: float) -> Settings:
    return load_settings(Path(root))


def settings(scope: Scope) -> Settings:
    root = data_dir_for(scope)
    path = root / "settings.toml"
    return _settings(str(root), path.stat().st_mtime if path.exists() else 0.0)


def _key(scope: Scope) -> tuple[str, int]:
    root = data_dir_for(scope)
    return str(root), read_manifest(DataDir(root)).version


VIEWS: dict[str, Callable[..., Any]] = {
    "options": views.options,
    "metric_view": views.metric_view,
    "headline": views.headline,
    "funnel": views.funnel,
    "trend": views.trend,
    "year_over_year": views.year_over_year,
    "metric_grid": views.metric_grid,
    "ranking": metrics.ranking,
}
"""The data functions pages may call through the cache. Each takes (warehouse, scope, ...)."""


@st.cache_data(max_entries=4096, show_spinner=False)
def _call(name: str, root: str, version: int, scope: Scope, args: tuple[Any, ...],
          kwargs: tuple[tuple[str, Any], ...]) -> Any:
    return VIEWS[name](_open(root, version), scope, *args, **dict(kwargs))


def view(name: str, scope: Scope, *args: Any, **kwargs: Any) -> Any:
    """Call ``VIEWS[name](warehouse, scope, *args, **kwargs)``, cached per scope and per
    warehouse version. Results are copies (``st.cache_data``), safe to modify."""
    if name not in VIEWS:
        raise KeyError(name)
    return _call(name, *_key(scope), scope, tuple(args), tuple(sorted(kwargs.items())))
