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
        self._refit_pending = False

    def _what_to_show(self) -> tuple:
        """Everything the keys depend on: the width, and each binding the footer may show as it reads it
        (the hidden ones, such as an Input's editing keys, never show: changing them changes nothing)."""
        app = self.app
        palette = app.COMMAND_PALETTE_BINDING
        return (app.size.width, self.compact, self.show_command_palette,
                tuple((key, b.key, app.get_key_display(b), b.action, b.description, b.id, b.group, b.tooltip,
                       enabled, tooltip)
                      for key, (_node, b, enabled, tooltip) in self.screen.active_bindings.items()
                      if b.show or b.id in AREA_KEYS or key == palette))

    def bindings_changed(self, screen: Any) -> None:
        # Textual's Footer rebuilds every key (tens of widgets, each styled) on each change of focus or
        # bindings, once per signal; this one once after the refresh, and only when what it shows changed.
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if not self._refit_pending:
            self._refit_pending = True
            self.call_after_refresh(self._refit)

    async def _refit(self) -> None:
        self._refit_pending = False
        if self.is_attached and self._shown != self._what_to_show():
            await self.recompose()

    def compose(self):
        # Textual's Footer shows nothing until the first bindings signal, then builds every key again;
        # the screen's bindings are known already (the focus, once set, may add a few: refit then).
        self.set_reactive(Footer._bindings_ready, True)
        items = list(super().compose())
        self._shown = self._what_to_show()
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
        if self.app.size.width != self._fitted_width and not self._refit_pending:
            self._refit_pending = True
            self.call_after_refresh(self._refit)
