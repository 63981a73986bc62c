"""Request handlers: three of them await functions that are not async."""
import asyncio

from chat.compat import get_manager
from chat.settings import load_settings


async def on_connect(socket) -> None:
    # BROKEN before codefix: `await get_manager()` raised TypeError here.
    manager = await get_manager()
    manager.sockets.append(socket)


async def on_message(text: str) -> None:
    settings = await load_settings()
    await (await get_manager()).broadcast(f"{settings['greeting']}: {text}")


async def on_shutdown() -> None:
    from chat.ws import get_websocket_manager

    manager = await get_websocket_manager(
        # comments inside the call survive the fix
    )
    manager.sockets.clear()


def start_background_flush() -> None:
    asyncio.create_task(get_manager())  # reported, not rewritten


async def on_ping(registry) -> str:
    # An async method of some object with the same name: left alone.
    await registry.get_websocket_manager()
    return "Use 'get_websocket_manager()' without await"
