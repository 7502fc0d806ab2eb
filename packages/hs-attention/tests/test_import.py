import importlib.metadata

import hs_attention


def test_version_matches_metadata() -> None:
    assert hs_attention.__version__ == importlib.metadata.version("hs-attention")
