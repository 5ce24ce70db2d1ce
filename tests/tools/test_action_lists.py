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


@pytest.mark.parametrize('class_ind, message', [
    ('1 A\n1 B\n2 C\n', "line 2: '1 B' repeats a class name or index"),  # A and B both got label 0
    ('1 A\n3 C\n', 'class indices must run 1..2 without gaps; got [1, 3]'),  # label 2 with two classes
    ('1 A\n2 A\n', "line 2: '2 A' repeats"),
])
def test_ucf101_class_indices_are_unique_and_without_gaps(tool, tmp_path, class_ind, message):
    (tmp_path / 'classInd.txt').write_text(class_ind)
    with pytest.raises(ValueError) as err:
        tool.ucf101(tmp_path, 1)
    assert message in str(err.value) and 'classInd.txt' in str(err.value)


def test_ucf101_a_label_that_is_no_number_names_the_line(tool, tmp_path):
    (tmp_path / 'classInd.txt').write_text('1 A\n')
    (tmp_path / 'trainlist01.txt').write_text('A/v_A_g01_c01.avi x\n')
    with pytest.raises(ValueError, match=r"trainlist01.txt, line 1: 'A/v_A_g01_c01.avi x' does not match"):
        tool.ucf101(tmp_path, 1)


def test_hmdb51_labels_are_the_same_in_every_split(tool, tmp_path):
    for name in ('brush_hair', 'cartwheel', 'catch'):
        (tmp_path / f'{name}_test_split1.txt').write_text(f'{name}_1.avi 1\n')
    for name in ('brush_hair', 'catch'):
        (tmp_path / f'{name}_test_split2.txt').write_text(f'{name}_2.avi 1\n')
    assert tool.hmdb51(tmp_path, 1)['hmdb51_train_split_1_videos.txt'][2] == 'catch/catch_1.avi 2'
    with pytest.raises(FileNotFoundError, match=r"classes \['cartwheel'\] have split files of other splits but no "
                                                r'<class>_test_split2.txt'):
        tool.hmdb51(tmp_path, 2)  # catch was given label 1 here, 2 in split 1
    (tmp_path / 'cartwheel_test_split2.txt').write_text('cartwheel_2.avi 2\n')
    assert tool.hmdb51(tmp_path, 2)['hmdb51_train_split_2_videos.txt'] == [
        'brush_hair/brush_hair_2.avi 0', 'catch/catch_2.avi 2']


def test_kinetics_csvs_of_one_name_a_bom_blank_lines_and_padded_labels(tool, tmp_path):
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    header = 'label,youtube_id,time_start,time_end\n'
    (tmp_path / 'a' / 'k400.csv').write_text(header + 'abseiling,x1,1,11\n')
    (tmp_path / 'b' / 'k400.csv').write_text(header + 'abseiling,x2,1,11\n')
    with pytest.raises(ValueError, match=r'a/k400.csv and .*b/k400.csv would both be written as k400_videos.txt'):
        tool.kinetics([tmp_path / 'a' / 'k400.csv', tmp_path / 'b' / 'k400.csv'], '.mp4')
    bom = tmp_path / 'bom.csv'
    bom.write_text('\ufeff' + header + 'abseiling ,x3,1,11\nabseiling,x4,1,11\n\n\nabseiling,x5,a,11\n')
    with pytest.raises(ValueError, match=r'bom.csv, line 6: time_start/time_end must be numbers'):
        tool.kinetics([bom], '.mp4')
    bom.write_text('\ufeff' + header + 'abseiling ,x3,1,11\nabseiling,x4,1,11\n')
    lists = tool.kinetics([bom], '.mp4')
    assert lists['classes.txt'] == ['abseiling'] and lists['bom_videos.txt'] == [
        'abseiling/x3_000001_000011.mp4 0', 'abseiling/x4_000001_000011.mp4 0']


def test_a_list_that_is_not_utf8_is_named(tool, tmp_path):
    (tmp_path / 'classInd.txt').write_bytes('1 Caf\xe9\n'.encode('latin-1'))
    with pytest.raises(ValueError, match='classInd.txt is not UTF-8 text'):
        tool.ucf101(tmp_path, 1)


@pytest.mark.parametrize('train, test, message', [
    ('A/v_A_g01_c01.avi 1\nA/v_A_g01_c01.avi 1\n', 'A/v_A_g02_c01.avi\n',
     'trainlist01.txt, line 2: A/v_A_g01_c01.avi is listed already (trainlist01.txt, line 1)'),
    ('A/v_A_g01_c01.avi 1\n', 'A/v_A_g01_c01.avi\n',  # a test video seen in training
     'testlist01.txt, line 1: A/v_A_g01_c01.avi is listed already (trainlist01.txt, line 1)'),
])
def test_ucf101_a_video_listed_twice_is_named(tool, tmp_path, train, test, message):
    (tmp_path / 'classInd.txt').write_text('1 A\n')
    (tmp_path / 'trainlist01.txt').write_text(train)
    (tmp_path / 'testlist01.txt').write_text(test)
    with pytest.raises(ValueError) as err:
        tool.ucf101(tmp_path, 1)
    assert message in str(err.value)


def test_kinetics_rows_listed_twice_are_kept_out_and_counted(tool, tmp_path, capsys):
    # listed twice, a clip weighed double in training; in both splits, the test scored training data
    header = 'label,youtube_id,time_start,time_end\n'
    train, val = tmp_path / 'train.csv', tmp_path / 'validate.csv'
    train.write_text(header + 'abseiling,a1,0,10\nabseiling,a1,0,10\nbowling,b1,5,15\n')
    val.write_text(header + 'bowling,b1,5,15\nbowling,b2,0,10\n')
    lists = tool.kinetics([train, val], '.mp4')
    assert lists['train_videos.txt'] == ['abseiling/a1_000000_000010.mp4 0', 'bowling/b1_000005_000015.mp4 1']
    assert lists['validate_videos.txt'] == ['bowling/b2_000000_000010.mp4 1']
    err = capsys.readouterr().err
    assert f'{train}: 1 row(s) listed twice in it, left out, e.g. line 3: abseiling/a1' in err
    assert f'{val}: 1 row(s) listed in an earlier csv too, left out, e.g. line 2: bowling/b1' in err


def test_kinetics_classes_of_another_run_are_not_replaced(tool, tmp_path):
    # a second run with one csv rewrote classes.txt with its own classes: the first run's lists then read as others
    header = 'label,youtube_id,time_start,time_end\n'
    (tmp_path / 'train.csv').write_text(header + 'abseiling,a1,0,10\nbowling,b1,5,15\n')
    (tmp_path / 'extra.csv').write_text(header + 'bowling,b3,0,10\n')
    assert tool.main(['kinetics', str(tmp_path / 'train.csv'), str(tmp_path / 'out')]) == 0
    with pytest.raises(ValueError, match=r'classes\.txt lists other classes than these csvs give \(1\)'):
        tool.main(['kinetics', str(tmp_path / 'extra.csv'), str(tmp_path / 'out')])
    assert (tmp_path / 'out' / 'classes.txt').read_text() == 'abseiling\nbowling\n'
