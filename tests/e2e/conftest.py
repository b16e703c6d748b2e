import pytest

from tests.e2e.server import create_user, start_live_server


@pytest.fixture(scope="module")
def lectern_server(tmp_path_factory):
    """A real daphne process with its own database and two users (staff `sam`, `ana`)."""
    live = start_live_server(tmp_path_factory.mktemp("live"))
    live.users = {
        "sam": create_user(live, "sam", "pw-sam-123", staff=True),
        "ana": create_user(live, "ana", "pw-ana-123"),
    }
    yield live
    live.stop()
