import importlib.metadata

import hs_tasks


def test_version_matches_metadata() -> None:
    assert hs_tasks.__version__ == importlib.metadata.version("hs-tasks")
