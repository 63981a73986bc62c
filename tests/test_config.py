"""Reading `[tool.codefix]`: bad input is one ConfigurationError naming the file."""

from __future__ import annotations

import pytest

from codefix.config import load_config
from codefix.rules import ConfigurationError


@pytest.mark.parametrize(
    ("content", "mention"),
    [
        (b"[tool.codefix]\n# \xff\xfe\n", "not UTF-8"),
        (b"[tool.codefix\n", "invalid TOML"),
        (b"[tool.codefix.no-such-rule]\n", "tool.codefix.no-such-rule"),
        (b"[tool]\ncodefix = 3\n", "tool.codefix must be a table"),
    ],
)
def test_bad_configuration_is_one_error_naming_the_file(tmp_path, content, mention):
    (tmp_path / "pyproject.toml").write_bytes(content)
    with pytest.raises(ConfigurationError) as raised:
        load_config(tmp_path)
    message = str(raised.value)
    assert "pyproject.toml" in message and mention in message
    assert "\n" not in message
