"""Extensions, created unbound; create_app() binds them."""

from typing import Any

from flask import Flask
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy

from app.api.schemas import ProblemSchema
from app.api.spec import marshmallow_plugin
from app.core.db import Base
from app.core.replica import RoutingSession


class PlugPoolApi(Api):
    """The /api/v1 API; errors are documented as the problem JSON we actually send."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = "DEFAULT_ERROR"
    ERROR_CONTENT_TYPE = "application/problem+json"

    def init_app(self, app: Flask, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        """Bind to the app; the document's limits come from its settings (app.api.spec)."""
        kwargs = {"marshmallow_plugin": marshmallow_plugin(app.config), **(spec_kwargs or {})}
        super().init_app(app, spec_kwargs=kwargs)

    def _register_responses(self) -> None:
        # smorest documents errors as application/json; we send application/problem+json.
        super()._register_responses()
        for response in self.spec.components.responses_lazy.values():
            content = response.get("content", {})
            if "application/json" in content:
                response["content"] = {self.ERROR_CONTENT_TYPE: content["application/json"]}


# RoutingSession sends a marked request's reads to the read replica, when there is one.
db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
migrate = Migrate()
login_manager = LoginManager()
api = PlugPoolApi()
