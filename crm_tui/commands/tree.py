"""The factories behind each top-level `crm` command (imported only when the command runs)."""

from __future__ import annotations

import typer


def _noun(name: str, show_extra=None):
    """`crm NOUN list|show|add|update|delete|history` for one entity, from its registry entry."""
    from crm_tui.commands import records

    return records.build_for(name, show_extra=show_extra)


def lead_app() -> typer.Typer:
    from crm_tui.commands import leads

    return leads.build_lead_app()


def account_app() -> typer.Typer:
    from crm_tui.commands import access, leads

    app = _noun("account")
    leads.add_timeline(app, "account")
    access.add_account_share(app)
    return app


def contact_app() -> typer.Typer:
    from crm_tui.commands import leads

    app = _noun("contact")
    leads.add_timeline(app, "contact")
    return app


def opp_app() -> typer.Typer:
    from crm_tui.commands import leads, pipeline

    app = _noun("opportunity", show_extra=pipeline.buying_group)
    leads.add_timeline(app, "opportunity")
    pipeline.add_opp_move(app)
    return app


def activity_app() -> typer.Typer:
    from crm_tui.commands import admin, leads

    app = _noun("activity")
    admin.add_activity_done(app)
    leads.add_activity_today(app)
    return app


def proposal_app() -> typer.Typer:
    from crm_tui.commands import proposals

    return proposals.proposal_app


def product_app() -> typer.Typer:
    return _noun("product")


def db_app() -> typer.Typer:
    from crm_tui.commands import admin

    return admin.db_app


def user_app() -> typer.Typer:
    from crm_tui.commands import admin

    return admin.user_app


def team_app() -> typer.Typer:
    from crm_tui.commands import access

    return access.team_app


def role_app() -> typer.Typer:
    from crm_tui.commands import access

    return access.role_app


def stage_app() -> typer.Typer:
    from crm_tui.commands import admin, pipeline

    if not getattr(admin.stage_app, "_crm_pipeline_added", False):
        pipeline.add_stage_commands(admin.stage_app)
        admin.stage_app._crm_pipeline_added = True  # type: ignore[attr-defined]
    return admin.stage_app


def tag_app() -> typer.Typer:
    from crm_tui.commands import bulk

    return bulk.tag_app


def forecast_app() -> typer.Typer:
    from crm_tui.commands import forecast

    return forecast.forecast_app


def quota_app() -> typer.Typer:
    from crm_tui.commands import forecast

    return forecast.quota_app


def view_app() -> typer.Typer:
    from crm_tui.commands import views

    return views.view_app


def jobs_app() -> typer.Typer:
    from crm_tui.commands import jobs

    return jobs.jobs_app


def assign_app() -> typer.Typer:
    from crm_tui.commands import notify

    return notify.assign_app


def notification_app() -> typer.Typer:
    from crm_tui.commands import notify

    return notify.notification_app


def demo():
    from crm_tui.commands import demo as module

    return module.demo


def update():
    from crm_tui.commands import bulk

    return bulk.update


def delete():
    from crm_tui.commands import bulk

    return bulk.delete


def undo():
    from crm_tui.commands import bulk

    return bulk.undo


def export():
    from crm_tui.commands import io

    return io.export


def import_():
    from crm_tui.commands import io

    return io.import_


def search():
    from crm_tui.commands import search as module

    return module.search


def batch():
    from crm_tui.commands import batch as module

    return module.batch


def lint():
    from crm_tui.commands import forecast

    return forecast.lint


def summary():
    from crm_tui.commands import forecast

    return forecast.summary


def warm_app() -> typer.Typer:
    from crm_tui.commands import warm

    return warm.warm_app


def config_app() -> typer.Typer:
    from crm_tui.commands import config

    return config.config_app
