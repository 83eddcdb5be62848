"""What every crm-tui screen shares: the engine, the user, worker failures, palette names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from crm_tui.app import CRMApp


class CRMScreenMixin:
    """Mixed into Screen and ModalScreen subclasses."""

    # "Accounts: new account": the group of this screen's commands in the palette.
    PALETTE_GROUP: ClassVar[str] = ""
    # action -> the verb shown in the palette when the footer's description is too short.
    PALETTE_NAMES: ClassVar[dict[str, str]] = {}

    @property
    def crm(self) -> "CRMApp":
        return self.app  # type: ignore[attr-defined, return-value]

    @property
    def engine(self) -> Any:
        return self.crm.engine

    @property
    def user(self) -> str:
        """The acting user's name (what the screen shows)."""
        return self.crm.user

    @property
    def actor(self) -> Any:
        """The acting user (``crm_tui.actor.Actor``) every service call that reads records gets;
        read it in the worker thread, as ``engine``."""
        return self.crm.actor

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker died of something the screen did not expect: tell the user, keep running."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self.log.error(f"worker {event.worker.name} failed: {error!r}")
        self.notify(f"{type(error).__name__}: {error}", title="Something went wrong", severity="error",
                    timeout=10)


def open_record(app: Any, entity: str, record_id: int, callback: Any = None) -> None:
    """Open one record's detail: the same screen from wherever it is opened.

    Accounts get the account detail, opportunities the opportunity detail,
    contacts the contact detail, leads the lead detail.
    """
    if entity == "account":
        from crm_tui.screens.account_detail import AccountDetailScreen

        screen: Any = AccountDetailScreen(record_id)
    elif entity == "opportunity":
        from crm_tui.screens.opportunity_detail import OpportunityDetailScreen

        screen = OpportunityDetailScreen(record_id)
    elif entity == "contact":
        from crm_tui.screens.contact_detail import ContactDetailScreen

        screen = ContactDetailScreen(record_id)
    elif entity == "lead":
        from crm_tui.screens.lead_detail import LeadDetailScreen

        screen = LeadDetailScreen(record_id)
    else:
        raise ValueError(f"no detail screen for {entity!r}")
    app.push_screen(screen, callback)
