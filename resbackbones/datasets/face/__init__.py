"""Face data: identity folders, insightface's RecordIO training sets, .bin / LFW verification pairs."""
from .bin_file import read_bin, write_bin
from .composed_identities import HalfComposedFaceDataset
from .identity_folder import FaceFolderDataset
from .lfw_pairs import read_pairs
from .rec_dataset import FaceRecDataset
from .recordio import IndexedRecordReader, IRHeader, pack_record, unpack_record, write_indexed_records
from .verification import FaceVerificationDataset

__all__ = ['FaceFolderDataset', 'FaceRecDataset', 'FaceVerificationDataset', 'HalfComposedFaceDataset', 'IRHeader',
           'IndexedRecordReader', 'pack_record', 'read_bin', 'read_pairs', 'unpack_record', 'write_bin',
           'write_indexed_records']
