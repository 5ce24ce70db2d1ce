"""Every visualisation hook is found by name from the HOOKS registry alone, in a fresh interpreter: no config needs
custom_imports and no model module imports a hook to register it."""
import subprocess
import sys

NAMES = ['DetVisualizationHook', 'PredictionGridHook', 'SegOverlayHook']
CHECK = '''
import sys
from resbackbones.registry import HOOKS, MODELS
MODELS.get('UNet'), MODELS.get('FasterRCNN')
assert 'resbackbones.visualization' not in sys.modules, 'a model module imported the hooks'
for name in {names!r}:  # one interpreter for all: each start costs seconds
    print(name, type(HOOKS.build(dict(type=name, out_dir='unused'))).__module__)
'''


def test_hooks_build_by_name_in_a_fresh_interpreter():
    done = subprocess.run([sys.executable, '-c', CHECK.format(names=NAMES)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    built = dict(line.split() for line in done.stdout.strip().splitlines())
    assert sorted(built) == sorted(NAMES)
    assert all(module.startswith('resbackbones.visualization.') for module in built.values())
