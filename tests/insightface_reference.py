"""insightface's arcface_torch IResNet, written out from its definition, as the reference for parity tests.

insightface is not a pip-installable PyTorch package. Its network: stem conv-BN-PReLU; blocks BN, 3x3, BN, PReLU,
strided 3x3, BN, plus the shortcut, no activation after the sum; every stage halves; embedding BN, flatten, FC,
BatchNorm1d; module names as insightface's (so ``torch.save(state_dict())`` writes its checkpoint format).
"""
from __future__ import annotations

import torch
from torch import nn


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
        self.bn2, self.prelu = nn.BatchNorm2d(cout), nn.PReLU(cout)
        self.conv2, self.bn3 = nn.Conv2d(cout, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) \
            if stride != 1 or cin != cout else None

    def forward(self, x):
        out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        return out + (x if self.downsample is None else self.downsample(x))


class InsightfaceIResNet(nn.Module):
    """insightface's layout and forward; ``layer4_only`` stops before the embedding layers."""

    def __init__(self, blocks=(2, 2, 2, 2), width=64, embedding=512, size=112):
        super().__init__()
        self.conv1, self.bn1, self.prelu = nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), \
            nn.PReLU(width)
        cin = width
        for i, n in enumerate(blocks):
            cout = width * 2 ** i
            self.add_module(f'layer{i + 1}', nn.Sequential(*[_Block(cin if j == 0 else cout, cout, 2 if j == 0 else 1)
                                                             for j in range(n)]))
            cin = cout
        self.bn2, self.dropout = nn.BatchNorm2d(cin), nn.Dropout(0.0)
        self.fc, self.features = nn.Linear(cin * (size // 16) ** 2, embedding), nn.BatchNorm1d(embedding)

    def forward(self, x, layer4_only=False):
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        if layer4_only:
            return x
        return self.features(self.fc(self.dropout(torch.flatten(self.bn2(x), 1))))


# --- arcface_torch losses.py, written out: the margin rules, for parity with resbackbones.heads.margin ------------

def insightface_combined_margin(logits, labels, s, m1, m2, m3, interclass_filtering_threshold=0):
    """``CombinedMarginLoss.forward`` since December 2022: arccos/cos under no_grad, in place (so the margin passes
    straight through), and the additive m3 branch when m3 > 0 (it ignores m2 then). With a filtering threshold,
    non-target cosines above it are multiplied by 0 first (a mask built without gradient)."""
    index_positive = torch.where(labels != -1)[0]
    if interclass_filtering_threshold > 0:
        with torch.no_grad():
            dirty = (logits > interclass_filtering_threshold).float()
            mask = torch.ones([index_positive.size(0), logits.size(1)], device=logits.device)
            mask.scatter_(1, labels[index_positive].view(-1, 1), 0)
            dirty[index_positive] *= mask
            tensor_mul = 1 - dirty
        logits = tensor_mul * logits
    target_logit = logits[index_positive, labels[index_positive].view(-1)]
    if m1 == 1.0 and m3 == 0.0:
        with torch.no_grad():
            target_logit.arccos_()
            logits.arccos_()
            final_target_logit = target_logit + m2
            logits[index_positive, labels[index_positive].view(-1)] = final_target_logit
            logits.cos_()
        return logits * s
    final_target_logit = target_logit - m3
    logits[index_positive, labels[index_positive].view(-1)] = final_target_logit
    return logits * s


def insightface_arcface_2021(logits, labels, s, m):
    """``ArcFace.forward`` before December 2022: exact gradient through sin(theta), linear fallback past pi."""
    import math
    cos_m, sin_m = math.cos(m), math.sin(m)
    theta, sinmm = math.cos(math.pi - m), math.sin(math.pi - m) * m
    index = torch.where(labels != -1)[0]
    target_logit = logits[index, labels[index].view(-1)]
    sin_theta = torch.sqrt(1.0 - torch.pow(target_logit, 2))
    cos_theta_m = target_logit * cos_m - sin_theta * sin_m
    final_target_logit = torch.where(target_logit > theta, cos_theta_m, target_logit - sinmm)
    logits[index, labels[index].view(-1)] = final_target_logit
    return logits * s


# --- arcface_torch eval/verification.py, written out: the 10-fold protocol, for FaceVerificationMetric ------------

def insightface_calculate_accuracy(threshold, dist, actual_issame):
    import numpy as np
    predict_issame = np.less(dist, threshold)
    tp = np.sum(np.logical_and(predict_issame, actual_issame))
    fp = np.sum(np.logical_and(predict_issame, np.logical_not(actual_issame)))
    tn = np.sum(np.logical_and(np.logical_not(predict_issame), np.logical_not(actual_issame)))
    fn = np.sum(np.logical_and(np.logical_not(predict_issame), actual_issame))
    tpr = 0 if (tp + fn == 0) else float(tp) / float(tp + fn)
    fpr = 0 if (fp + tn == 0) else float(fp) / float(fp + tn)
    acc = float(tp + tn) / dist.size
    return tpr, fpr, acc


def insightface_calculate_roc(thresholds, embeddings1, embeddings2, actual_issame, nrof_folds=10, pca=0):
    """``calculate_roc`` with its ``pca`` option (per fold, sklearn's PCA fitted on the training folds' embeddings
    of both sides, then sklearn's normalize), sklearn's KFold as there."""
    import numpy as np
    import sklearn.preprocessing
    from sklearn.decomposition import PCA
    from sklearn.model_selection import KFold
    nrof_pairs = min(len(actual_issame), embeddings1.shape[0])
    nrof_thresholds = len(thresholds)
    k_fold = KFold(n_splits=nrof_folds, shuffle=False)
    tprs = np.zeros((nrof_folds, nrof_thresholds))
    fprs = np.zeros((nrof_folds, nrof_thresholds))
    accuracy = np.zeros((nrof_folds))
    indices = np.arange(nrof_pairs)
    if pca == 0:
        dist = np.sum(np.square(np.subtract(embeddings1, embeddings2)), 1)
    for fold_idx, (train_set, test_set) in enumerate(k_fold.split(indices)):
        if pca > 0:
            _embed_train = np.concatenate((embeddings1[train_set], embeddings2[train_set]), axis=0)
            pca_model = PCA(n_components=pca)
            pca_model.fit(_embed_train)
            embed1 = sklearn.preprocessing.normalize(pca_model.transform(embeddings1))
            embed2 = sklearn.preprocessing.normalize(pca_model.transform(embeddings2))
            dist = np.sum(np.square(np.subtract(embed1, embed2)), 1)
        acc_train = np.zeros((nrof_thresholds))
        for threshold_idx, threshold in enumerate(thresholds):
            _, _, acc_train[threshold_idx] = insightface_calculate_accuracy(threshold, dist[train_set],
                                                                            actual_issame[train_set])
        best_threshold_index = np.argmax(acc_train)
        for threshold_idx, threshold in enumerate(thresholds):
            tprs[fold_idx, threshold_idx], fprs[fold_idx, threshold_idx], _ = insightface_calculate_accuracy(
                threshold, dist[test_set], actual_issame[test_set])
        _, _, accuracy[fold_idx] = insightface_calculate_accuracy(thresholds[best_threshold_index], dist[test_set],
                                                                  actual_issame[test_set])
    return np.mean(tprs, 0), np.mean(fprs, 0), accuracy


def insightface_evaluate(embeddings, actual_issame, nrof_folds=10, pca=0):
    """``evaluate``'s accuracy part: pairs interleaved (0::2, 1::2), thresholds 0..4 step 0.01."""
    import numpy as np
    return insightface_calculate_roc(np.arange(0, 4, 0.01), embeddings[0::2], embeddings[1::2],
                                     np.asarray(actual_issame), nrof_folds=nrof_folds, pca=pca)


def insightface_calculate_val_far(threshold, dist, actual_issame):
    import numpy as np
    predict_issame = np.less(dist, threshold)
    true_accept = np.sum(np.logical_and(predict_issame, actual_issame))
    false_accept = np.sum(np.logical_and(predict_issame, np.logical_not(actual_issame)))
    n_same = np.sum(actual_issame)
    n_diff = np.sum(np.logical_not(actual_issame))
    return float(true_accept) / float(n_same), float(false_accept) / float(n_diff)


def insightface_calculate_val(embeddings, actual_issame, far_target, nrof_folds=10):
    """``calculate_val`` as ``evaluate`` calls it (thresholds 0..4 step 0.001, plain distances), with one change:
    scipy >= 1.x refuses ``interp1d(far_train, thresholds, kind='slinear')`` when FARs tie (they always do), so
    the ties are dropped first, each FAR keeping its smallest threshold; the interpolation is still scipy's."""
    import numpy as np
    from scipy import interpolate
    from sklearn.model_selection import KFold
    thresholds = np.arange(0, 4, 0.001)
    embeddings1, embeddings2 = embeddings[0::2], embeddings[1::2]
    actual_issame = np.asarray(actual_issame)
    nrof_pairs = min(len(actual_issame), embeddings1.shape[0])
    k_fold = KFold(n_splits=nrof_folds, shuffle=False)
    val = np.zeros(nrof_folds)
    far = np.zeros(nrof_folds)
    dist = np.sum(np.square(np.subtract(embeddings1, embeddings2)), 1)
    for fold_idx, (train_set, test_set) in enumerate(k_fold.split(np.arange(nrof_pairs))):
        far_train = np.zeros(len(thresholds))
        for threshold_idx, threshold in enumerate(thresholds):
            _, far_train[threshold_idx] = insightface_calculate_val_far(threshold, dist[train_set],
                                                                        actual_issame[train_set])
        if np.max(far_train) >= far_target:
            untied, first = np.unique(far_train, return_index=True)  # the one change (see above)
            f = interpolate.interp1d(untied, thresholds[first], kind='slinear')
            threshold = f(far_target)
        else:
            threshold = 0.0
        val[fold_idx], far[fold_idx] = insightface_calculate_val_far(threshold, dist[test_set],
                                                                     actual_issame[test_set])
    return np.mean(val), np.std(val), np.mean(far)
