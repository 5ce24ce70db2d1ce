"""For tests that start processes of their own: a free local TCP port, and a gloo process group inside a worker."""
from __future__ import annotations

import socket
from contextlib import contextmanager
from typing import Iterator

import torch.distributed as dist


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for torchrun's PORT or a gloo init_method)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@contextmanager
def gloo_group(rank: int, port: int, world_size: int = 2) -> Iterator[None]:
    """This worker as ``rank`` of a gloo group on ``port``, torn down however the body ends."""
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=world_size)
    try:
        yield
    finally:
        dist.destroy_process_group()
