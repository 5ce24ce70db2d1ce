"""Every visualisation hook is found by name from the HOOKS registry alone, in a fresh interpreter: no config needs
custom_imports and no model module imports a hook to register it."""
import subprocess
import sys

import pytest

CHECK = '''
import sys
from resbackbones.registry import HOOKS, MODELS
MODELS.get('UNet'), MODELS.get('FasterRCNN')
assert 'resbackbones.visualization' not in sys.modules, 'a model module imported the hooks'
hook = HOOKS.build(dict(type={name!r}, out_dir='unused'))
print(type(hook).__module__)
'''


@pytest.mark.parametrize('name', ['DetVisualizationHook', 'PredictionGridHook', 'SegOverlayHook'])
def test_hook_builds_by_name_in_a_fresh_interpreter(name):
    done = subprocess.run([sys.executable, '-c', CHECK.format(name=name)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().startswith('resbackbones.visualization.')
