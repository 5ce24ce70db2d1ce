"""Importing the package and building a model imports no optional runtime: albumentations comes in with the first
Albu step, the deploy runtimes with their backend. Every tool and data-loader worker starts an interpreter, so an
eager import would be paid each time (albumentations alone costs about a second)."""
import subprocess
import sys

LAZY = ('albumentations', 'onnx', 'onnxruntime', 'openvino', 'nncf', 'torchao')
CHECK = f'''
import sys
import resbackbones
from resbackbones.registry import MODELS, TRANSFORMS
from resbackbones.deploy import build_backend
MODELS.build(dict(type='ResNet', depth=18, base_channels=8))
print('after import:', *[name for name in {LAZY!r} if name in sys.modules])
TRANSFORMS.build(dict(type='Albu', transforms=[dict(type='HorizontalFlip', p=0.5)]))
print('after Albu:', *[name for name in {LAZY!r} if name in sys.modules])
'''


def test_optional_runtimes_load_only_when_used():
    done = subprocess.run([sys.executable, '-c', CHECK], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    after_import, after_albu = done.stdout.strip().splitlines()
    assert after_import == 'after import:'
    assert after_albu == 'after Albu: albumentations'
