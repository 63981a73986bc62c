"""A deliberate-failure test: it proves awaiting the factory raises TypeError."""
import pytest

from chat.ws import get_websocket_manager


async def test_awaiting_the_factory_fails():
    with pytest.raises(TypeError):
        await get_websocket_manager()
