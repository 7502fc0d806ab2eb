"""``python -m hs_attention.info``: which backends run here, and why the others do not."""

from __future__ import annotations

import platform

import torch

from hs_attention._version import __version__
from hs_attention.backends import GLOBAL_BACKENDS, SSA_BACKENDS, select_backend


def report() -> str:
    lines = [
        f"hs-attention {__version__}",
        f"torch {torch.__version__}, python {platform.python_version()}, {platform.machine()}, "
        f"threads {torch.get_num_threads()}, cuda {torch.cuda.is_available()}",
    ]
    for op, registry in (("ssa", SSA_BACKENDS), ("global", GLOBAL_BACKENDS)):
        lines.append(f"{op} attention backends:")
        for name, backend in sorted(registry.items(), key=lambda kv: -kv[1].PRIORITY):
            reasons = backend.not_supported_reasons()
            state = "available" if not reasons else "unavailable: " + "; ".join(reasons)
            lines.append(f"  {name:<10} {state}")
            lines.append(f"  {'':<10} {backend.DESCRIPTION}")
        for device in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
            try:
                chosen = select_backend(op, device, torch.float32).NAME
            except RuntimeError as exc:
                chosen = f"none ({exc})"
            lines.append(f"  auto on {device} (float32) -> {chosen}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
