"""--show-dir may not be the folder of the test images: pictures named after them replaced them."""
from types import SimpleNamespace

import pytest
from mmengine.runner.base_loop import BaseLoop
from torch.utils.data import DataLoader

from resbackbones.visualization import DetVisualizationHook, PredictionGridHook, SegOverlayHook


class Images:
    def __init__(self, paths, masks=None):
        self.paths, self.masks = paths, masks

    def __len__(self):
        return len(self.paths)

    def get_data_info(self, i):
        return dict(img_path=self.paths[i], **({'seg_map_path': self.masks[i]} if self.masks else {}))


class Loop(BaseLoop):
    def run(self):
        pass


# PredictionGridHook's predictions.png in a class folder became one more test image of that class
@pytest.mark.parametrize('hook', [SegOverlayHook, DetVisualizationHook, PredictionGridHook])
def test_the_images_folder_is_refused_another_is_not(tmp_path, hook):
    (tmp_path / 'images').mkdir()
    (tmp_path / 'images' / 'c0.png').write_bytes(b'image')
    (tmp_path / 'show').mkdir()
    dataset = Images([str(tmp_path / 'images' / 'c0.png')])
    runner = SimpleNamespace(_test_loop=Loop(SimpleNamespace(), DataLoader(dataset)))
    with pytest.raises(ValueError, match=r"out_dir .*images holds the test set's files \(img_path .*c0.png\).*give another folder"):
        hook(str(tmp_path / 'images' / '.')).before_run(runner)
    hook(str(tmp_path / 'show')).before_run(runner)  # elsewhere: fine
    assert (tmp_path / 'images' / 'c0.png').read_bytes() == b'image'


def test_the_masks_folder_is_refused_too(tmp_path):
    # SegFolderDataset pairs images/a.png with masks/a.png: the overlay replaced the ground-truth mask
    for folder in ('images', 'masks'):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / 'a.png').write_bytes(b'file')
    dataset = Images([str(tmp_path / 'images' / 'a.png')], [str(tmp_path / 'masks' / 'a.png')])
    runner = SimpleNamespace(_test_loop=Loop(SimpleNamespace(), DataLoader(dataset)))
    with pytest.raises(ValueError, match=r"holds the test set's files \(seg_map_path .*masks/a.png\)"):
        SegOverlayHook(str(tmp_path / 'masks')).before_run(runner)
