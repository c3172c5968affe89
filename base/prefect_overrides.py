"""Prefect's settings with one value changed, derived once per change.

Deriving Prefect settings rebuilds every setting from the environment (tens of milliseconds,
more than a whole API request takes), so each derived copy is kept for as long as the settings
it came from stay the same object.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

from prefect.context import SettingsContext
from prefect.settings import Settings
from prefect.settings.legacy import Setting

_derived: dict[tuple[str, Hashable], tuple[Settings, Settings]] = {}
_lock = threading.Lock()


def overridden(base: SettingsContext, setting: Setting, value: Hashable) -> SettingsContext:
    """A context to enter: `base`'s profile and settings, with `setting` set to `value`."""
    key = (setting.name, value)
    with _lock:
        cached = _derived.get(key)
        if cached is None or cached[0] is not base.settings:
            cached = (base.settings, base.settings.copy_with_update(updates={setting: value}))
            _derived[key] = cached
    return SettingsContext(profile=base.profile, settings=cached[1])
