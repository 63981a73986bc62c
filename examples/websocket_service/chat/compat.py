"""Old import path, kept for plugins written against chat 1.x."""
from chat.ws import get_websocket_manager as get_manager  # noqa: F401
