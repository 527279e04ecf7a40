"""The ASGI application that uvicorn serves: ``uvicorn app.asgi:app``."""

from app.config import get_settings
from app.logs import configure_logging
from app.main import create_app

configure_logging(get_settings().log_level)
app = create_app()
