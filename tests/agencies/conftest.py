"""The agencies tests share the services tests' settings fixture."""

from tests.services.conftest import settings  # noqa: F401 - re-exported as a fixture here
