import pytest
import torch


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def pytest_configure(config):
    # Test inputs are tiny: one thread avoids thread start-up and barrier costs, and keeps a loaded box usable.
    torch.set_num_threads(1)
