"""Public face of the websocket package: re-exports the manager factory."""
from chat.ws.manager import WebSocketManager, get_websocket_manager

__all__ = ["WebSocketManager", "get_websocket_manager"]
