"""Every Flask extension singleton, bound to the app in create_app, and the SQLAlchemy naming convention."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from contest import ratelimits  # noqa: F401  (registers the "contest-memory://" rate-limit storage)

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL
# (SQLite needs names to alter constraints in batch mode at all).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Storage (memory, or Redis when CONTEST_REDIS_URL is set) comes from RATELIMIT_* settings at init_app.
limiter = Limiter(get_remote_address)
