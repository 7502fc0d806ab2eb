"""The transformer feed-forward layer.

Shape legend: ``b`` batch, ``n`` tokens, ``d`` features.
"""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["Mlp"]


class Mlp(nn.Module):
    """``fc2(act(fc1(x)))`` followed by dropout (HyperSIGMA's ``Mlp``: no dropout after the activation).

    Parameter names ``fc1``/``fc2`` are upstream's, so official checkpoints load as they are.

    Args:
        in_features: input size ``d``.
        hidden_features: hidden size (default ``in_features``).
        out_features: output size (default ``in_features``).
        act_layer: activation class (default exact GELU).
        drop: dropout probability after ``fc2``.
        bias: biases on both linear layers.
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: int | None = None,
        out_features: int | None = None,
        *,
        act_layer: type[nn.Module] = nn.GELU,
        drop: float = 0.0,
        bias: bool = True,
        device: object = None,
        dtype: object = None,
    ) -> None:
        super().__init__()
        dd: dict = {"device": device, "dtype": dtype}
        hidden_features = hidden_features or in_features
        out_features = out_features or in_features
        self.fc1 = nn.Linear(in_features, hidden_features, bias=bias, **dd)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden_features, out_features, bias=bias, **dd)
        self.drop = nn.Dropout(drop)

    def forward(self, x: Tensor) -> Tensor:
        """``x``: ``(..., d_in)`` → ``(..., d_out)``."""
        return self.drop(self.fc2(self.act(self.fc1(x))))
