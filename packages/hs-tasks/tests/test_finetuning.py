"""The task interface and the shared fine-tuning loop, on a tiny stand-in task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from hs_tasks.core import Evaluator, TaskModel, TaskOutput, create_task_model, list_tasks, register_task
from hs_tasks.finetuning import FinetuneConfig, SelectBest, finetune


class _Samples(Dataset):
    """Points in R^6 labelled by the sign pattern of two coordinates (4 classes)."""

    def __init__(self, n: int, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, 6, generator=gen)
        self.y = (self.x[:, 0] > 0).long() * 2 + (self.x[:, 1] > 0).long()

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        return {"image": self.x[i], "label": self.y[i]}


class _Backbone(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.patch_embed = nn.Linear(6, 16)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.GELU(), nn.Dropout(0.1), nn.Linear(16, 16)) for _ in range(2)
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.patch_embed(x)
        for block in self.blocks:
            x = x + block(x)
        return x


class _Accuracy(Evaluator):
    def __init__(self) -> None:
        self.correct = self.total = 0

    def update(self, output: TaskOutput, batch: dict[str, Any]) -> None:
        self.correct += int((output.pred.argmax(-1) == batch["label"]).sum())
        self.total += len(batch["label"])

    def compute(self) -> dict[str, float]:
        return {"accuracy": self.correct / max(1, self.total)}


class _ToyTask(TaskModel):
    task = "toy"
    main_metric = "accuracy"

    def forward(self, batch: dict[str, Any]) -> TaskOutput:
        return TaskOutput(self.head(self.backbone(batch["image"])))

    def loss(self, output: TaskOutput, batch: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        return nn.functional.cross_entropy(output.pred, batch["label"]), {}

    def evaluator(self) -> Evaluator:
        return _Accuracy()


def _model() -> _ToyTask:
    torch.manual_seed(0)
    return _ToyTask(_Backbone(), nn.Linear(16, 4))


def _config(**kw: Any) -> FinetuneConfig:
    base = dict(epochs=6, batch_size=32, lr=3e-2, layer_decay=0.75, warmup_epochs=1, progress=False)
    return FinetuneConfig(**(base | kw))


def test_finetune_learns_and_keeps_the_best_validation_epoch() -> None:
    train, val = _Samples(256, 1), _Samples(128, 2)
    model = _model()
    before = model.evaluate(torch.utils.data.DataLoader(val, batch_size=64))["accuracy"]
    result = finetune(model, train, val, _config())
    after = model.evaluate(torch.utils.data.DataLoader(val, batch_size=64))["accuracy"]
    assert after > max(before, 0.8)
    assert result.best_val["accuracy"] == after  # the model holds the selected weights
    assert result.best_val["accuracy"] == max(h["accuracy"] for h in result.val_history)
    assert len(result.history) == 6 and len(result.val_history) == 6


def test_selection_restores_an_earlier_epoch_when_validation_gets_worse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scripted = iter([0.2, 0.9, 0.5, 0.4])  # epoch 1 is best
    snapshots: list[dict[str, Tensor]] = []
    real = SelectBest.on_epoch_end

    def fake_evaluate(model, data, **kw):
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        return {"accuracy": next(scripted)}

    monkeypatch.setattr("hs_tasks.finetuning.evaluate", fake_evaluate)
    monkeypatch.setattr(SelectBest, "on_epoch_end", real)
    model = _model()
    result = finetune(model, _Samples(64, 1), _Samples(16, 2), _config(epochs=4))
    assert result.best_epoch == 1
    for name, value in model.state_dict().items():
        assert torch.equal(value, snapshots[1][name]), name


def test_layer_decay_reaches_the_optimizer(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, float] = {}
    import hs_tasks.finetuning as ft

    real = ft.build_adamw

    def spy(model, **kw):
        opt = real(model, **kw)
        for group in opt.param_groups:
            for name in group["names"]:
                seen[name] = group["lr"]
        return opt

    monkeypatch.setattr(ft, "build_adamw", spy)
    finetune(_model(), _Samples(32, 1), None, _config(epochs=1, lr=1.0, layer_decay=0.5))
    assert seen["head.weight"] == 1.0
    assert seen["backbone.blocks.1.2.weight"] == 0.5
    assert seen["backbone.blocks.0.2.weight"] == 0.25
    assert seen["backbone.patch_embed.weight"] == 0.125


def test_an_interrupted_finetune_resumes_to_the_same_result(tmp_path: Path) -> None:
    train, val = _Samples(128, 1), _Samples(64, 2)
    model_a = _model()
    result_a = finetune(model_a, train, val, _config(out_dir=str(tmp_path / "a")))

    class Stop(Exception):
        pass

    class StopAfter:
        def on_epoch_end(self, trainer, epoch):
            if epoch == 2:
                raise Stop

    with pytest.raises(Stop):
        finetune(_model(), train, val, _config(out_dir=str(tmp_path / "b")), callbacks=[StopAfter()])
    torch.manual_seed(99)
    model_c = _model()
    result_c = finetune(model_c, train, val, _config(out_dir=str(tmp_path / "b")))
    assert result_c.best_epoch == result_a.best_epoch
    assert result_c.val_history == result_a.val_history
    for (name, a), c in zip(model_a.state_dict().items(), model_c.state_dict().values()):
        assert torch.equal(a, c), name


def test_registry() -> None:
    @register_task("toy_for_test")
    def _factory(**kw: Any) -> TaskModel:
        return _model()

    assert "toy_for_test" in list_tasks()
    assert isinstance(create_task_model("toy_for_test"), _ToyTask)
    with pytest.raises(
        ValueError, match=r"task: expected one of .* got 'toy_for_tst'; did you mean 'toy_for_test'"
    ):
        create_task_model("toy_for_tst")
    with pytest.raises(ValueError, match="already registered"):
        register_task("toy_for_test")(_factory)


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="batch_size: expected >= 1, got 0"):
        FinetuneConfig(batch_size=0)
    with pytest.raises(ValueError, match="warmup_epochs"):
        FinetuneConfig(epochs=2, warmup_epochs=3)
    with pytest.raises(ValueError, match="train_set: expected at least one sample"):
        finetune(_model(), _Samples(0, 0), None, _config())


def test_recipe_registry() -> None:
    from hs_tasks.recipes import RecipeConfig, RecipeResult, list_recipes, register_recipe, run_recipe

    @register_recipe("toy_recipe_for_test")
    def _recipe(dataset: str, config: RecipeConfig) -> RecipeResult:
        return RecipeResult(
            task="toy_recipe_for_test",
            dataset=dataset,
            backbone=config.backbone,
            metrics={"oa": 1.0},
            main_metric="oa",
            higher_is_better=True,
            baseline_name="none",
            baseline={},
            split={"seed": config.seed},
            finetune=None,
        )

    assert "toy_recipe_for_test" in list_recipes()
    result = run_recipe("toy_recipe_for_test", "salinas_a", RecipeConfig(seed=3))
    assert result.dataset == "salinas_a" and result.split == {"seed": 3}
    with pytest.raises(ValueError, match=r"task: expected one of .* got 'toy_recipe'; did you mean"):
        run_recipe("toy_recipe", "x")


def test_extra_callbacks_reach_finetune_inside_the_block() -> None:
    from hs_tasks.finetuning import extra_callbacks

    seen: list[int] = []

    class Count:
        def on_epoch_end(self, trainer, epoch):
            seen.append(epoch)

    with extra_callbacks(Count()):
        finetune(_model(), _Samples(32, 1), None, _config(epochs=2))
    finetune(_model(), _Samples(32, 1), None, _config(epochs=1))  # outside: not called
    assert seen == [0, 1]
