"""Settings are read once from the environment."""
import os


def load_settings() -> dict[str, str]:
    return {"greeting": os.environ.get("CHAT_GREETING", "hello")}
