"""The websocket manager: one per process, created on first use."""


class WebSocketManager:
    def __init__(self) -> None:
        self.sockets: list[object] = []

    async def broadcast(self, message: str) -> None:
        for socket in self.sockets:
            await socket.send(message)


_manager: WebSocketManager | None = None


def get_websocket_manager() -> WebSocketManager:
    """Synchronous on purpose: creating the manager never blocks."""
    global _manager
    if _manager is None:
        _manager = WebSocketManager()
    return _manager
