"""The ASGI application that uvicorn serves: ``uvicorn app.asgi:app``."""

import sys

from pydantic import ValidationError

from app.config import describe_invalid, get_settings
from app.logs import configure_logging
from app.main import create_app

try:
    settings = get_settings()
except ValidationError as error:
    # Whoever imports the app (uvicorn, a worker) stops with what to set, not a traceback.
    sys.exit(f"error: {describe_invalid(error)}")

configure_logging(settings.log_level)
app = create_app(settings)
