"""Fixtures for the PyTorch tests."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def single_torch_thread():
    """Run torch on one thread: the tiny models here gain nothing from more, and on a
    machine shared with other jobs, OpenMP threads that wait for each other cost more
    than they save."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
