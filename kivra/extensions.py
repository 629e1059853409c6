"""Flask extensions, created unbound and initialised in the app factory."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import DDL, BigInteger, Integer, MetaData, event
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic's batch migrations on SQLite deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Money in öre: 64-bit, as a bureau's run passes 21.47 M kr (2^31 öre). SQLite's INTEGER is 64-bit already.
Ore = BigInteger().with_variant(Integer(), "sqlite")


def one_of(column: str, values) -> str:
    """SQL saying a column holds one of the values (a state enum's members): CHECK constraints, partial indexes."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def stored_as_is(column) -> None:
    """PostgreSQL keeps this column's values out of line without compressing them (STORAGE EXTERNAL): they are PDFs,
    or bodies carrying one in base64, which pglz tried to compress on every write without ever saving a byte: a PDF
    cost PostgreSQL 0.92 ms of CPU to write instead of 0.28, a payload 1.36 instead of 0.36 (bench/blob_storage.py).
    Migration 0022 sets it on a database the migrations made; this sets it on a table made from the models
    (`create_all`). SQLite has no such setting."""
    event.listen(column.table, "after_create", DDL(f"ALTER TABLE {column.table.name} ALTER COLUMN {column.name} "
                                                   "SET STORAGE EXTERNAL").execute_if(dialect="postgresql"))


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Only the sign-in forms are limited (no default limits); see kivra/web/throttle.py.
limiter = Limiter(key_func=get_remote_address)
