"""Account errors, mapped to problem JSON by app.core.errors."""

from app.core.errors import Conflict, TooManyRequests, Unauthorized


class EmailTaken(Conflict):
    title = "E-mail already registered"


class InvalidCredentials(Unauthorized):
    title = "Invalid e-mail or password"


class TooManyLoginAttempts(TooManyRequests):
    title = "Too many log-in attempts"
