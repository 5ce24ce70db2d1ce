"""tools/data/action_lists.py: UCF-101, HMDB-51 and Kinetics split files (real formats) -> mmaction2 lists."""
import importlib.util
from pathlib import Path

import pytest

from resbackbones.datasets import VideoDataset

SCRIPT = Path(__file__).resolve().parents[2] / 'tools' / 'data' / 'action_lists.py'


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('action_lists', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ucf101(tool, tmp_path):
    ann = tmp_path / 'ucfTrainTestlist'
    ann.mkdir()
    (ann / 'classInd.txt').write_text('1 ApplyEyeMakeup\r\n2 ApplyLipstick\r\n3 Archery\r\n')  # CRLF as shipped
    (ann / 'trainlist01.txt').write_text('ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\r\n'
                                         'Archery/v_Archery_g09_c02.avi 3\r\n')
    (ann / 'testlist01.txt').write_text('ApplyLipstick/v_ApplyLipstick_g01_c01.avi\r\n')
    assert tool.main(['ucf101', str(ann), str(tmp_path / 'out')]) == 0
    train = (tmp_path / 'out' / 'ucf101_train_split_1_videos.txt').read_text().splitlines()
    assert train == ['ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 0', 'Archery/v_Archery_g09_c02.avi 2']
    val = tmp_path / 'out' / 'ucf101_val_split_1_videos.txt'
    assert val.read_text() == 'ApplyLipstick/v_ApplyLipstick_g01_c01.avi 1\n'
    assert VideoDataset(str(val), num_classes=101).get_data_info(0)['label'] == 1  # readable as written
    (ann / 'trainlist01.txt').write_text('ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 2\n')
    with pytest.raises(ValueError, match=r'trainlist01.txt, line 1: .* does not match classInd.txt'):
        tool.ucf101(ann, 1)


def test_hmdb51(tool, tmp_path):
    splits = tmp_path / 'testTrainMulti_7030_splits'
    splits.mkdir()
    (splits / 'brush_hair_test_split1.txt').write_text('April_09_brush_hair_u_nm_np1_ba_goo_0.avi 1 \n'
                                                       'Blonde_being_brushed_brush_hair_f_nm_np2_ri_med_0.avi 2 \n')
    (splits / 'cartwheel_test_split1.txt').write_text('Acrobacias_de_un_fenomeno_cartwheel_f_cm_np1_ba_bad_8.avi 0 \n'
                                                      'Bodenturnen_2004_cartwheel_f_cm_np1_le_med_0.avi 1 \n')
    (splits / 'cartwheel_test_split2.txt').write_text('x.avi 2\n')
    lists = tool.hmdb51(splits, 1)
    assert lists['hmdb51_train_split_1_videos.txt'] == [
        'brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi 0',
        'cartwheel/Bodenturnen_2004_cartwheel_f_cm_np1_le_med_0.avi 1']
    assert lists['hmdb51_val_split_1_videos.txt'] == [
        'brush_hair/Blonde_being_brushed_brush_hair_f_nm_np2_ri_med_0.avi 0']
    (splits / 'cartwheel_test_split1.txt').write_text('y.avi 3\n')
    with pytest.raises(ValueError, match=r"cartwheel_test_split1.txt, line 1: expected 'video.avi 0\|1\|2'"):
        tool.hmdb51(splits, 1)


def test_kinetics(tool, tmp_path):
    train, val = tmp_path / 'train.csv', tmp_path / 'validate.csv'
    train.write_text('label,youtube_id,time_start,time_end,split,is_cc\n'
                     'abseiling,0347ZoDXyP0,95,105,train,0\n"air drumming",--nQbRBEz2s,104,114,train,0\n')
    val.write_text('label,youtube_id,time_start,time_end,split\nabseiling,0wR5jVB-WPk,417,427,val\n')
    assert tool.main(['kinetics', str(train), str(val), str(tmp_path / 'out')]) == 0
    assert (tmp_path / 'out' / 'train_videos.txt').read_text().splitlines() == [
        'abseiling/0347ZoDXyP0_000095_000105.mp4 0', 'air_drumming/--nQbRBEz2s_000104_000114.mp4 1']
    assert (tmp_path / 'out' / 'validate_videos.txt').read_text() == 'abseiling/0wR5jVB-WPk_000417_000427.mp4 0\n'
    assert (tmp_path / 'out' / 'classes.txt').read_text() == 'abseiling\nair drumming\n'
    val.write_text('label,youtube_id,time_start,time_end\nabseiling,abc,x,10\n')
    with pytest.raises(ValueError, match=r'validate.csv, line 2: time_start/time_end must be numbers'):
        tool.kinetics([val], '.mp4')
    with pytest.raises(ValueError, match='expected a header with'):
        val.write_text('a,b\n1,2\n')
        tool.kinetics([val], '.mp4')
