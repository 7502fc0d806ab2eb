import importlib.metadata

import hs_backbone


def test_version_matches_metadata() -> None:
    assert hs_backbone.__version__ == importlib.metadata.version("hs-backbone")
