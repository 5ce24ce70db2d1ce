import os

import pytest
import torch

from resbackbones.engine import dist
from resbackbones.engine.dist import resolve_backend


@pytest.mark.parametrize('given', ['auto', None])
def test_auto_backend_follows_the_hardware(given):
    assert resolve_backend(given) == ('nccl' if torch.cuda.is_available() else 'gloo')


@pytest.mark.parametrize('given', ['gloo', 'nccl', 'mpi'])
def test_explicit_backend_is_kept(given):
    assert resolve_backend(given) == given


def test_slurm_variables_become_torchrun_ones(monkeypatch):
    for key in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv('SLURM_PROCID', '3')
    monkeypatch.setenv('SLURM_NTASKS', '8')
    monkeypatch.setenv('SLURM_LOCALID', '1')
    monkeypatch.setenv('MASTER_ADDR', 'node-0')  # scontrol is not called when the address is given
    dist._slurm_env(port=29999)
    assert [os.environ[k] for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_PORT', 'MASTER_ADDR')] == \
        ['3', '8', '1', '29999', 'node-0']


def test_slurm_launcher_outside_srun_names_what_is_missing(monkeypatch):
    for key in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST', 'MASTER_ADDR'):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(ValueError, match="launcher 'slurm' needs SLURM_PROCID, SLURM_NTASKS, SLURM_NODELIST from "
                                         'SLURM: run it under srun'):  # was 'error: SLURM_PROCID'
        dist._slurm_env(port=None)
