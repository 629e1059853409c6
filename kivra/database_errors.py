"""Database errors that name no values: what a traceback in the log says about a refused row."""
from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "handle_error")
def _without_values(context) -> None:
    """PostgreSQL's DETAIL repeats the refused row's key, `Key (company_id, personnummer)=(1, 19121212…)`: drop it
    from the driver's error and from SQLAlchemy's, as hide_parameters (kivra.config) drops the bound parameters.
    The error keeps its class, its SQLSTATE and its diagnostics (constraint name) for code that inspects them."""
    original = context.original_exception
    diag = getattr(original, "diag", None)
    if diag is None or not diag.message_detail:
        return
    original.args = (diag.message_primary or type(original).__name__,)
    error = context.sqlalchemy_exception
    if error is not None:
        error.args = (f"({type(original).__module__}.{type(original).__name__}) {original.args[0]}",)
