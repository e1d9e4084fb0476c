"""Cached access to the warehouse for the Streamlit app.

* One ``Warehouse`` per data directory and manifest version (``st.cache_resource``): a new
  load publishes a new manifest version, and the next rerun opens the new warehouse while
  sessions still running on the old one finish. Queries go through ``Warehouse.cursor()``, so
  no DuckDB connection is shared between sessions.
* Every cached result (``st.cache_data``) takes the request (which holds the scope) or the
  scope as an ordinary, hashed argument, so no result computed for one scope can be served to
  another.
* No database exception reaches a user: a metric the loaded drops cannot answer says that
  ``python -m ccgi_dash rebuild`` is needed, and any other read error says so in words.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import streamlit as st

from ccgi_dash import metrics
from ccgi_dash.metrics import RebuildNeeded, Request
from ccgi_dash.scope import Scope
from ccgi_dash.settings import Settings, load_settings
from ccgi_dash.store import (
    DataDir,
    Warehouse,
    default_data_dir,
    demo_data_dir,
    manifest_version,
)


def data_dir(scope: Scope) -> DataDir:
    """The DataDir of a scope (logs, manifest, settings of its data)."""
    return DataDir(data_dir_for(scope))


def data_dir_for(scope: Scope) -> Path:
    """The data directory a scope may read: the demo's own, or the real one. Decided from the
    scope's dataset, which the server derives from the identity, never from the request."""
    raw = demo_data_dir() if scope.dataset == "demo" else default_data_dir()
    return _resolved(str(raw), os.getcwd())


@functools.lru_cache(maxsize=64)
def _resolved(raw: str, cwd: str) -> Path:
    """``Path(raw).resolve()`` from ``cwd``, remembered: a page run asks for its data
    directory about thirty times, and each ``resolve`` walks the path with a ``stat`` per
    part (about 5 ms a run in all)."""
    return (Path(cwd) / raw).resolve()


@st.cache_resource(max_entries=4, show_spinner=False)
def _open(root: str, version: int) -> Warehouse:
    return Warehouse(Path(root))


def warehouse(scope: Scope) -> Warehouse:
    """The newest complete warehouse of the scope's data directory."""
    root = data_dir_for(scope)
    version = manifest_version(DataDir(root))
    return _open(str(root), version)


@st.cache_data(ttl=300, show_spinner=False)
def _settings(root: str, mtime: float) -> Settings:
    return load_settings(Path(root))


@st.cache_data(max_entries=16, show_spinner=False)
def _outdated(root: str, version: int) -> list[str]:
    return [d.isoformat() for d in metrics.outdated_drops(_open(root, version))]


def outdated(scope: Scope) -> list[str]:
    """Drops of the scope's warehouse built by an older catalogue (checked once a version)."""
    return _outdated(*_key(scope))


def settings(scope: Scope) -> Settings:
    root = data_dir_for(scope)
    path = root / "settings.toml"
    return _settings(str(root), path.stat().st_mtime if path.exists() else 0.0)


def _key(scope: Scope) -> tuple[str, int]:
    root = data_dir_for(scope)
    return str(root), manifest_version(DataDir(root))


@st.cache_data(max_entries=4096, show_spinner=False)
def _call(name: str, root: str, version: int, who: Request | Scope, args: tuple[Any, ...],
          kwargs: tuple[tuple[str, Any], ...]) -> Any:
    module, qualname = name.split(":")
    fn = getattr(importlib.import_module(module), qualname)
    return fn(_open(root, version), who, *args, **dict(kwargs))


def view(fn: Callable[..., Any], who: Request | Scope, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn(warehouse, who, *args, **kwargs)``, cached per request (or scope) and
    warehouse version.

    ``fn`` is a data function of this package (``views.funnel``, a topic's panel, a student
    list): the cache key names it by module and name, with the request (scope, filters, drop,
    threshold) and every argument hashed, so a result is only ever served to the same scope.
    Results are copies (``st.cache_data``), safe to modify. A read the loaded data cannot
    answer stops the page with a plain message instead of an exception.
    """
    module = getattr(fn, "__module__", "")
    if not module.startswith("ccgi_dash.") or module.startswith("ccgi_dash.ui"):
        raise ValueError(f"not a data function of ccgi_dash: {fn!r}")
    scope = who.scope if isinstance(who, Request) else who
    try:
        return _call(f"{module}:{fn.__qualname__}", *_key(scope), who, tuple(args),
                     tuple(sorted(kwargs.items())))
    except RebuildNeeded as exc:
        _stop_for_rebuild(scope, str(exc))
    except duckdb.Error as exc:
        _stop_for_rebuild(scope, f"The loaded data could not be read ({type(exc).__name__}).")
    raise AssertionError("unreachable")  # pragma: no cover - st.stop raises


def _stop_for_rebuild(scope: Scope, message: str) -> None:
    flag = " --data-dir data/demo" if scope.dataset == "demo" else ""
    st.error(f"{message.split(' A data manager')[0]} A data manager rebuilds the loaded drops "
             f"from their raw files with:\n\n```\npython -m ccgi_dash rebuild{flag}\n```",
             icon=":material/build:")
    st.stop()
