"""Domain operations shared by the TUI and the CLI.

Kept light on import: submodules pull in SQLAlchemy only when used, so
``crm --help`` does not pay for it. Never imports textual or typer.
"""

from crm_tui.errors import (  # noqa: F401
    Conflict,
    CRMError,
    DatabaseUnavailable,
    NotFound,
    ValidationError,
    ValidationErrors,
)
