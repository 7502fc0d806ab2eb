import importlib.metadata

import hs_bench


def test_version_matches_metadata() -> None:
    assert hs_bench.__version__ == importlib.metadata.version("hs-bench")
