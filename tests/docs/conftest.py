import pytest
from docs_helpers import build_site


@pytest.fixture(scope="session")
def built_docs(tmp_path_factory):
    """The documentation site, built once for every test under tests/docs."""
    return build_site(tmp_path_factory.mktemp("docs") / "site")
