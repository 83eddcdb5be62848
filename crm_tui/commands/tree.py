"""The factories behind each top-level `crm` command (imported only when the command runs)."""

from __future__ import annotations

import typer


def _noun(noun: str, entity: str, fields_name: str, filters_name: str, summary: tuple[str, ...], plural: str):
    from crm_tui.commands import records
    from crm_tui.services import fields

    return records.build(noun, entity, getattr(fields, fields_name), getattr(fields, filters_name), summary, plural)


def lead_app() -> typer.Typer:
    from crm_tui.commands import leads

    return leads.build_lead_app()


def account_app() -> typer.Typer:
    from crm_tui.commands import leads

    app = _noun("account", "account", "ACCOUNT_FIELDS", "ACCOUNT_FILTERS",
                ("id", "name", "industry", "city", "state", "status", "owner"), "accounts")
    leads.add_timeline(app, "account")
    return app


def contact_app() -> typer.Typer:
    from crm_tui.commands import leads

    app = _noun("contact", "contact", "CONTACT_FIELDS", "CONTACT_FILTERS",
                ("id", "name", "account", "title", "email", "phone", "buying_role"), "contacts")
    leads.add_timeline(app, "contact")
    return app


def opp_app() -> typer.Typer:
    from crm_tui.commands import leads, pipeline

    app = _noun("opp", "opportunity", "OPPORTUNITY_FIELDS", "OPPORTUNITY_FILTERS",
                ("id", "name", "account", "stage", "amount", "currency", "probability", "expected_close", "owner"),
                "opportunities")
    leads.add_timeline(app, "opportunity")
    pipeline.add_opp_move(app)
    return app


def activity_app() -> typer.Typer:
    from crm_tui.commands import admin, leads

    app = _noun("activity", "activity", "ACTIVITY_FIELDS", "ACTIVITY_FILTERS",
                ("id", "type", "subject", "occurred_at", "due_at", "completed_at", "owner", "account"), "activities")
    admin.add_activity_done(app)
    leads.add_activity_today(app)
    return app


def proposal_app() -> typer.Typer:
    from crm_tui.commands import proposals

    return proposals.proposal_app


def product_app() -> typer.Typer:
    from crm_tui.commands import proposals

    return proposals.build_product_app()


def db_app() -> typer.Typer:
    from crm_tui.commands import admin

    return admin.db_app


def user_app() -> typer.Typer:
    from crm_tui.commands import admin

    return admin.user_app


def stage_app() -> typer.Typer:
    from crm_tui.commands import admin, pipeline

    if not getattr(admin.stage_app, "_crm_pipeline_added", False):
        pipeline.add_stage_commands(admin.stage_app)
        admin.stage_app._crm_pipeline_added = True
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


def lint():
    from crm_tui.commands import forecast

    return forecast.lint


def summary():
    from crm_tui.commands import forecast

    return forecast.summary
