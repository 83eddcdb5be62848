"""The reference for a one-row `crm ... list`: a trivial Typer app that opens a SQLite file and prints one row.

With CRM_BENCH_PREIMPORT=mod1,mod2 it first imports those modules: bench/run.py uses that to show
what importing a library alone costs on top of the reference (e.g. sqlalchemy), in the same run.
"""

import importlib
import os
import sqlite3

import typer

for _name in filter(None, os.environ.get("CRM_BENCH_PREIMPORT", "").split(",")):
    importlib.import_module(_name)

app = typer.Typer(help="A trivial Typer app over a SQLite file.")


@app.command()
def first(db: str = typer.Argument(..., help="The SQLite file"),
          table: str = typer.Option("opportunities", "--table", help="The table")) -> None:
    """Print the first row's id."""
    con = sqlite3.connect(db)
    try:
        row = con.execute(f"SELECT id FROM {table} ORDER BY id LIMIT 1").fetchone()  # noqa: S608 - a benchmark
    finally:
        con.close()
    typer.echo(row[0] if row else "")


if __name__ == "__main__":
    app()
