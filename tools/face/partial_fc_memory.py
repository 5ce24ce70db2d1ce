"""Measure what Partial FC saves: peak memory of one training step of the margin head for many identities.

    python tools/face/partial_fc_memory.py [--classes 100000] [--dim 512] [--batch 128] [--world 2]
                                           [--sample-rate 0.1]

Runs one forward + backward of the head alone (embeddings in, loss out) in fresh processes: the full ArcFace head
in one process, then PartialFCHead over --world gloo processes at sample rate 1 and at --sample-rate, and prints
per process the class-centre parameter bytes and the peak resident memory the step added (ru_maxrss after
minus before), in MiB. The full head sees the --world processes' batches together. CPU only; the ratios carry
over to GPU memory.
"""
from __future__ import annotations

import argparse
import os
import resource
import socket
import sys
from typing import Sequence

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from resbackbones.engine.cli import ToolParser, run_tool  # noqa: E402

MIB = 2 ** 20


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MIB  # Linux reports KiB


def _step(rank: int, world: int, port: int, args, sample_rate: float, queue) -> None:
    from resbackbones.heads import ArcFaceHead, PartialFCHead
    if world > 1:
        dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=world)
    torch.manual_seed(rank)
    head = PartialFCHead(args.dim, args.classes, sample_rate=sample_rate) if world > 1 or sample_rate < 1 \
        else ArcFaceHead(args.dim, args.classes)
    batch = args.batch * (args.world if world == 1 else 1)  # the same total batch in every set-up
    embeddings = torch.randn(batch, args.dim, requires_grad=True)
    labels = torch.randint(0, args.classes, (batch,))
    before = _peak_mib()
    head.loss(embeddings, labels).backward()
    queue.put((rank, head.weight.numel() * 4 / MIB, _peak_mib() - before))
    if world > 1:
        dist.destroy_process_group()


def measure(args, world: int, sample_rate: float) -> list[tuple[int, float, float]]:
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    procs = [ctx.Process(target=_step, args=(r, world, port, args, sample_rate, queue)) for r in range(world)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    if any(p.exitcode for p in procs):
        raise ValueError(f'a measuring process failed (world {world}, sample rate {sample_rate})')
    return sorted(queue.get() for _ in procs)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ToolParser(prog='partial_fc_memory.py', description='Peak memory of the margin head, full vs sharded.')
    parser.add_argument('--classes', type=int, default=100_000)
    parser.add_argument('--dim', type=int, default=512)
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--world', type=int, default=2)
    parser.add_argument('--sample-rate', type=float, default=0.1)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.world < 2 or args.classes < args.world:
        raise ValueError(f'--world must be >= 2 and --classes >= --world; got {args.world}, {args.classes}')
    if not 0 < args.sample_rate <= 1 or args.batch < 1 or args.dim < 1:  # failed in the third measurement, minutes in
        raise ValueError(f'--sample-rate must be in (0, 1], --batch and --dim >= 1; got {args.sample_rate}, '
                         f'{args.batch}, {args.dim}')
    print(f'{args.classes} identities, {args.dim}-d embeddings, total batch {args.batch * args.world}')
    print('| head | processes | centres per process (MiB) | peak added by one step (MiB) |')
    print('|---|---|---|---|')
    for name, world, rate in (('ArcFaceHead (full)', 1, 1.0), ('PartialFCHead', args.world, 1.0),
                              (f'PartialFCHead, sample rate {args.sample_rate}', args.world, args.sample_rate)):
        rows = measure(args, world, rate)
        print(f'| {name} | {world} | {max(r[1] for r in rows):.0f} | {max(r[2] for r in rows):.0f} |', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='partial_fc_memory.py'))
