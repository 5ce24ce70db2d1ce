"""deployed_before: which output folders a new deploy may replace whole (only what an earlier deploy wrote)."""
import json
import os

from resbackbones.deploy.pipeline import MANIFEST, deployed_before


def _deploy_folder(root, files):
    for name in files:
        os.makedirs(os.path.dirname(os.path.join(root, name)) or root, exist_ok=True)
        with open(os.path.join(root, name), 'w') as f:
            f.write('x')
    with open(os.path.join(root, MANIFEST), 'w') as f:
        json.dump(dict(files=[MANIFEST, *files]), f)
    return str(root)


def test_a_file_of_the_users_inside_a_branch_folder_keeps_the_folder_theirs(tmp_path):
    """Only top-level names were compared: box_branch/my_notes.txt was deleted with the folder on a redeploy."""
    folder = _deploy_folder(tmp_path / 'out', ['model.onnx', 'box_branch/model.onnx'])
    owns = deployed_before(folder)
    assert owns(os.listdir(folder))
    (tmp_path / 'out' / 'box_branch' / 'my_notes.txt').write_text('mine')
    assert not owns(os.listdir(folder))
    (tmp_path / 'out' / 'box_branch' / 'my_notes.txt').unlink()
    (tmp_path / 'out' / 'config.py').write_text('mine')  # a top-level stranger, refused before too
    assert not owns(os.listdir(folder))
