"""The footer every screen shows: its keys, as many as fit on one line, then F1 (all the keys) and the
command palette. Textual's Footer scrolls sideways when the keys are wider than the terminal, so at
80 columns the last keys (and F1) were simply cut off; this one never overflows: the keys that do not
fit are left out, and F1 and ctrl+p, which reach every key, always show."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

ALWAYS = ("app.toggle_keys", "toggle_keys")  # F1: the keys panel lists every key
# The app's keys to the areas, search and quit: left out of the footer's binding list (show=False in
# CRMApp.BINDINGS) and added after the screen's own keys when there is room (a wide terminal).
AREA_KEYS = ("app.dashboard", "app.accounts", "app.leads", "app.pipeline", "app.contacts", "app.today",
             "app.proposals", "app.forecast", "app.products", "app.search", "app.quit")


def key_width(key: FooterKey) -> int:
    """The cells a key takes in a compact footer: " key description" plus one cell between keys."""
    return len(key.key_display) + len(key.description) + (2 if key.description else 1) + 1


class FitFooter(Footer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("compact", True)
        super().__init__(*args, **kwargs)
        self._fitted_width = 0
        self._shown: tuple | None = None  # what the keys on show were built from (see _what_to_show)

    def _what_to_show(self) -> tuple:
        """Everything the keys depend on: the width, and each active binding as the footer reads it."""
        return (self.app.size.width, self.compact, self.show_command_palette,
                tuple((b.key, self.app.get_key_display(b), b.action, b.description, b.show, b.id, b.group,
                       b.tooltip, enabled, tooltip)
                      for (_node, b, enabled, tooltip) in self.screen.active_bindings.values()))

    def bindings_changed(self, screen: Any) -> None:
        # Textual's Footer rebuilds every key on each change of focus or bindings (tens of widgets,
        # each restyled); this one only when what it shows would change.
        if self._bindings_ready and self.is_attached and screen is self.screen and self._shown == self._what_to_show():
            return
        super().bindings_changed(screen)

    def compose(self):
        items = list(super().compose())
        self._shown = self._what_to_show() if self._bindings_ready else None
        width = self.app.size.width
        palette = [w for w in items if isinstance(w, FooterKey) and w.has_class("-command-palette")]
        always = [w for w in items if isinstance(w, FooterKey) and w.action in ALWAYS and w not in palette]
        budget = width - sum(key_width(w) + 2 for w in palette) - sum(key_width(w) for w in always)
        shown = []
        for w in items:
            if w in palette or w in always:
                continue
            need = key_width(w) if isinstance(w, FooterKey) else len(str(getattr(w, "content", ""))) + 2
            if need > budget:
                budget = 0  # keep the screen's order: the first keys are the ones that matter most
                break
            budget -= need
            shown.append(w)
        areas = {b.id: (b, enabled, tooltip) for (_node, b, enabled, tooltip) in self.screen.active_bindings.values()
                 if b.id in AREA_KEYS}
        for binding_id in AREA_KEYS:
            if binding_id not in areas:
                continue
            binding, enabled, tooltip = areas[binding_id]
            key = FooterKey(binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                            disabled=not enabled, tooltip=tooltip or binding.tooltip or binding.description)
            if key_width(key) > budget:
                break
            budget -= key_width(key)
            shown.append(key.data_bind(compact=Footer.compact))
        self._fitted_width = width
        for w in shown + always + palette:
            if isinstance(w, FooterKey):
                # Born with the class its compact watcher would add on mount: no restyle per key.
                w.set_class(self.compact, "-compact", update=False)
        yield from shown + always + palette

    def on_resize(self, event: events.Resize) -> None:
        if self.app.size.width != self._fitted_width:
            self.call_after_refresh(self.recompose)
