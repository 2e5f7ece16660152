"""The frameworks' defaults as the installed frameworks define them, beside the spec values
that reproduce them (`mlp_numpy.defaults.DEFAULTS`), for `mlp-compare defaults`.

Each backend with a default set (`DEFAULTS_SET`) reads every row of `mlp_numpy.defaults.ROWS`
from its installed framework (`installed_defaults()`): a value where the framework exposes one
(a default argument, an attribute, a process setting) or measures one, so a new framework
version that changes a default shows up here; where the default is a formula in the
framework's code, the value names it. `source` says where each was read. A default set whose
backend is not installed has `installed: null`.
"""

from __future__ import annotations

from typing import Any

from mlp_compare.frameworks import Framework
from mlp_numpy.defaults import FRAMEWORKS, ROWS, default_value


def installed_defaults(frameworks: list[Framework]) -> dict[str, Any]:
    """The table: `versions` (each default set's framework version, None when its backend
    is not installed) and `defaults`, one row per default with, for each default set, the
    `installed` value, the `spec` value reproducing it and the `source`."""
    backends = {
        fw.module.DEFAULTS_SET: fw for fw in frameworks if fw.available and fw.module.DEFAULTS_SET
    }
    readings = {name: fw.module.installed_defaults() for name, fw in backends.items()}
    rows = []
    for key, (default, fields) in ROWS.items():
        row: dict[str, Any] = {"default": default, "field": ", ".join(fields)}
        for name in FRAMEWORKS:
            reading = readings.get(name, {}).get(key)
            spec = [default_value(name, field) for field in fields]
            row[name] = {
                "installed": None if reading is None else reading.value,
                "spec": spec[0] if len(spec) == 1 else ", ".join(map(str, spec)),
                "source": None if reading is None else reading.source,
            }
        rows.append(row)
    versions = {name: backends[name].version() if name in backends else None for name in FRAMEWORKS}
    return {"versions": versions, "defaults": rows}
