from collections.abc import Iterator

import pytest

from tests.databases import backends, fresh_database
from tests.harness import Stack, running_stack


@pytest.fixture(scope="module", params=backends())
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp(f"stack-{request.param}")
    with fresh_database(request.param, tmp) as url, running_stack(url, tmp) as s:
        yield s
