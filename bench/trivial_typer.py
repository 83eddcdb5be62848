"""The reference for `crm --help`: a trivial Typer app with a few sub-commands."""

import typer

app = typer.Typer(help="A trivial Typer app.")
sub = typer.Typer(help="A sub-app.")
app.add_typer(sub, name="thing")


@sub.command("list")
def list_things(fmt: str = typer.Option("table", "--format", help="Output format")) -> None:
    """List things."""


@app.command()
def hello(name: str = typer.Argument("world", help="Who to greet")) -> None:
    """Say hello."""
    typer.echo(f"hello {name}")


if __name__ == "__main__":
    app()
