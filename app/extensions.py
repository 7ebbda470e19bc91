"""Extensions, created unbound; create_app() binds them."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy

from app.api.schemas import ProblemSchema
from app.core.db import Base


class PlugPoolApi(Api):
    """The /api/v1 API; errors are documented as the problem JSON we actually send."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = "DEFAULT_ERROR"


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
api = PlugPoolApi()
