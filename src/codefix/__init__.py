"""codefix: find and safely rewrite async and test-configuration bugs across Python projects."""

__version__ = "0.1.0"
