"""Pipeline commands: `crm opp move`, and `crm stage add|update|reorder`."""

from __future__ import annotations

from typing import Optional

import typer

from crm_tui.commands._common import Format, RecordId, State, actor, info, session, settings
from crm_tui.commands._output import emit, emit_one, output_options


def buying_group(s, row: dict) -> dict:
    """`crm opp show`'s buying group: each contact with their role, "Ada Byron (champion); ..."."""
    from crm_tui.services.sales import pipeline

    roles = pipeline.contact_roles(session=s, opportunity_id=row["id"])
    return {"buying_group": "; ".join(f"{r['name']} ({r['role'] or 'member'})" for r in roles)}


def add_opp_move(app: typer.Typer) -> None:
    @app.command("move")
    def opp_move(
        opportunity_id: int = typer.Argument(..., metavar="ID", help="The opportunity's id",
                                             parser=RecordId("opportunity")),
        stage: str = typer.Argument(..., help="The stage to move it to (name or id), e.g. Proposal"),
        reason: Optional[str] = typer.Option(None, "--reason",
                                             help="Why it was lost (required for Lost): price, competition, "
                                                  "budget, missing features, timing, ... (see config lost_reasons)"),
        if_version: Optional[int] = typer.Option(None, "--if-version",
                                                  help="Refuse if the opportunity is no longer at this version"),
    ) -> None:
        """Move an opportunity to another stage. Won sets the close date; Lost needs --reason."""
        from crm_tui.services.sales import pipeline

        with session() as s:
            move = pipeline.move_opportunity(session=s, opportunity_id=opportunity_id, stage=stage, reason=reason,
                                             actor=State.actor(s), expected_version=if_version,
                                             reasons=settings().lost_reasons)
            stages = {st.id: st.name for st in pipeline.list_stages(session=s)}
        info(f"moved opportunity {opportunity_id} from {stages[move.from_stage_id]} to {stages[move.to_stage_id]} "
             f"(probability {move.new_probability}%, version {move.version})")


def _stage_rows(stages):
    return [{"id": st.id, "name": st.name, "probability": st.probability, "position": st.position,
             "is_won": st.is_won, "is_lost": st.is_lost, "forecast_category": st.forecast_category}
            for st in stages]


def add_stage_commands(app: typer.Typer) -> None:
    @app.command("add")
    @output_options(default=Format.ids)
    def stage_add(
        name: str = typer.Argument(..., help="Stage name, e.g. Demo"),
        probability: str = typer.Option(..., "--probability", help="Win probability 0-100 for deals in it"),
        position: Optional[int] = typer.Option(None, "--position",
                                               help="Place in the order, 1 = first (default: after the last open "
                                                    "stage, before Won and Lost)"),
        forecast_category: Optional[str] = typer.Option(None, "--forecast-category",
                                                        help="pipeline, best case, commit, closed or omitted"),
        fmt: Format = Format.ids,
    ) -> None:
        """Add a pipeline stage; prints its id."""
        from crm_tui.services.sales import pipeline

        with session() as s:
            st = pipeline.add_stage(session=s, name=name, probability=probability, position=position,
                                    forecast_category=forecast_category)
            (row,) = _stage_rows([st])
        info(f"added stage {row['name']} at position {row['position']}")
        emit_one(row, fmt)

    @app.command("update")
    def stage_update(
        stage: str = typer.Argument(..., help="The stage (name or id)"),
        name: Optional[str] = typer.Option(None, "--name", help="New name"),
        probability: Optional[str] = typer.Option(None, "--probability",
                                                  help="New probability 0-100; deals that follow the stage "
                                                       "(not set by hand) get it too"),
        forecast_category: Optional[str] = typer.Option(None, "--forecast-category",
                                                        help="pipeline, best case, commit, closed or omitted"),
    ) -> None:
        """Rename a stage or change its probability or forecast category."""
        from crm_tui.services.sales import pipeline

        with session() as s:
            res = pipeline.update_stage(session=s, stage=stage, actor=actor(), name=name, probability=probability,
                                        forecast_category=forecast_category)
            sname, prob = res.stage.name, res.stage.probability
        message = f"updated stage {sname} (probability {prob}%)"
        if res.batch_id:
            message += f"; {res.opportunities_updated} opportunities now at {prob}% (batch {res.batch_id})"
        info(message)

    @app.command("reorder")
    @output_options()
    def stage_reorder(
        stages: list[str] = typer.Argument(..., help="Every stage, in the new order, e.g. Lead Qualified Demo ..."),
        fmt: Format = Format.table,
    ) -> None:
        """Put the stages in a new order (name every stage once)."""
        from crm_tui.services.sales import pipeline

        if len(stages) == 1 and "," in stages[0]:
            stages = [p.strip() for p in stages[0].split(",") if p.strip()]
        with session() as s:
            rows = _stage_rows(pipeline.reorder_stages(session=s, names=stages))
        emit(rows, fmt)



