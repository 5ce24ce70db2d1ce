import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: video_fixtures
from video_fixtures import make_videos  # noqa: E402


@pytest.fixture(scope='session')
def videos(tmp_path_factory):
    """Synthetic videos by kind (see video_fixtures.make_videos)."""
    return make_videos(tmp_path_factory.mktemp('videos'))
