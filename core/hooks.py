"""Explicit hooks: how a lower app lets a higher one act on its events without importing it.

``settings.GOVSHARE_HOOKS`` maps each hook name to the dotted paths of the functions that handle
it, in order. The lower app calls them inside its own transaction, so a handler's failure rolls
the whole step back; handlers are part of the step, never fire-and-forget signals.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


def hook_handlers(name: str) -> list[Callable[..., Any]]:
    return [import_string(path) for path in settings.GOVSHARE_HOOKS.get(name, ())]


def run_hooks(name: str, **kwargs: Any) -> list[Any]:
    """Call every handler of ``name`` with the keyword arguments; their results in order."""
    return [handler(**kwargs) for handler in hook_handlers(name)]


def run_hook_once(name: str, **kwargs: Any) -> Any:
    """Call the single handler of a hook whose result the caller needs (exactly one required)."""
    handlers = hook_handlers(name)
    if len(handlers) != 1:
        raise ImproperlyConfigured(
            f"GOVSHARE_HOOKS[{name!r}] needs exactly one handler; it has {len(handlers)}."
        )
    return handlers[0](**kwargs)
