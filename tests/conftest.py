import pytest
import torch
from torch import nn


@pytest.fixture(autouse=True)
def _seed_and_one_thread():
    torch.manual_seed(0)
    yield
    # A tool run in-process with --threads N keeps N; back to one, or every later test of this worker would compete
    # with the other xdist worker for the cores (several times slower each).
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _no_process_wide_malloc_settings(monkeypatch):
    """Configs that set ``env_cfg.malloc`` (the nuclei ones) are validated and logged as in a run, but glibc is not
    told: its thresholds would outlive the test and keep every later test's freed memory in this worker.
    tests/engine/test_malloc.py sets them in child processes."""
    from resbackbones.engine import malloc
    monkeypatch.setattr(malloc, 'glibc_mallopt', lambda: (lambda param, value: 1))


def pytest_configure(config):
    # Test inputs are tiny: one thread avoids thread start-up and barrier costs, and keeps a loaded box usable.
    torch.set_num_threads(1)


def randomise_weights(model: nn.Module, seed: int = 1) -> nn.Module:
    """Random convs, BN running statistics and BN affine, so that a load that misses any of them shows."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.conv._ConvNd):
                fan_in = module.weight[0].numel()
                module.weight.copy_(torch.randn(module.weight.shape, generator=gen) * (2 / fan_in) ** 0.5)
            elif isinstance(module, nn.modules.batchnorm._BatchNorm):
                n = module.num_features
                module.running_mean.copy_(torch.rand(n, generator=gen) * 0.4 - 0.2)
                module.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.5)
                module.weight.copy_(torch.rand(n, generator=gen) * 0.5 + 0.25)
                module.bias.copy_(torch.rand(n, generator=gen) * 0.4 - 0.2)
            elif isinstance(module, nn.GroupNorm):
                module.weight.copy_(torch.rand(module.num_channels, generator=gen) * 0.5 + 0.25)
                module.bias.copy_(torch.rand(module.num_channels, generator=gen) * 0.4 - 0.2)
            elif isinstance(module, nn.PReLU):
                module.weight.copy_(torch.rand(module.weight.shape, generator=gen) * 0.3 + 0.1)
            elif isinstance(module, nn.Linear):
                module.weight.copy_(torch.randn(module.weight.shape, generator=gen) * 0.1)
                if module.bias is not None:
                    module.bias.copy_(torch.randn(module.bias.shape, generator=gen) * 0.1)
    return model.eval()


@pytest.fixture
def randomise():
    """``randomise(model, seed=1)``: random convs, norms (statistics and affine), PReLUs and linears, in eval mode."""
    return randomise_weights


@pytest.fixture
def log_records():
    """Records of mmengine's current logger (the weight loaders print through it), all levels."""
    import logging

    from mmengine.logging import MMLogger
    records, handler, logger = [], logging.Handler(), MMLogger.get_current_instance()
    handler.emit = records.append
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
