import importlib.metadata

import hs_pretrain


def test_version_matches_metadata() -> None:
    assert hs_pretrain.__version__ == importlib.metadata.version("hs-pretrain")
