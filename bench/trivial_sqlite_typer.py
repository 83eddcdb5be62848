"""The reference for a one-row `crm ... list`: a trivial Typer app that opens a SQLite file and prints one row."""

import sqlite3

import typer

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
