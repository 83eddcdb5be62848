"""The command palette's provider: every action of the current screen and of the app, "group: verb".

Imported when the palette first opens, not at startup.
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from crm_tui.app import CRMApp, PaletteCommand


class CRMCommands(Provider):
    """Every action of the current screen and of the app, named "group: verb"."""

    def commands(self) -> list[PaletteCommand]:
        app = self.app
        assert isinstance(app, CRMApp)
        return app.palette_commands(self.screen)

    async def discover(self) -> Hits:
        for command in self.commands():
            yield DiscoveryHit(command.name, self._runner(command), help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self.commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, matcher.highlight(command.name), self._runner(command), text=command.name,
                          help=command.help)

    def _runner(self, command: PaletteCommand):
        return partial(self.app.run_action, command.action, command.target)
