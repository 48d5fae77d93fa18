"""One EResFD training step in PyTorch for the side-by-side bench (bench-only, never shipped): the step of
../shared/golden/train_step/README.md §5 — zero_grad, train-mode forward (eresfd_torch.build_forward),
MultiBoxLoss (SPEC §7, priors SPEC §5 from the actual head map sizes), backward, torch.optim.Adam
(lr 1e-3, weight decay 5e-4) over the checkpoint's 250 parameters (the dead layer5 gets no gradient, so
Adam skips it, as in the reference; unlike the reference, the forward does not compute it).

argv: checkpoint.pth table.json batch.f32 (NCHW [B,3,S,S]) targets.json (per image [[x1,y1,x2,y2,label],…]) B S
Runs one untimed step on the checkpoint's weights, prints "loss <loss_l> <loss_c> <num_pos> <loss_l'> <loss_c'>"
(primed: the same outputs with the studio's stage-2 tie rule) and "ready", then answers each stdin line
"t" with the ms of one full step (1 thread), and exits on "q".
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from eresfd_torch import build_forward

STEPS, MIN_SIZES, VARIANCE = [4, 8, 16, 32, 64, 128], [16, 32, 64, 128, 256, 512], (0.1, 0.2)
TH1, TH2, TH3 = 0.1, 0.35, 0.5
NEG_POS = 3


def prior_boxes(sizes, imh, imw):
    """(cx, cy, w, h) per prior, levels in head order; float64 then float32 like the reference."""
    out = []
    for (fh, fw), step, m in zip(sizes, STEPS, MIN_SIZES):
        i, j = np.meshgrid(np.arange(fh), np.arange(fw), indexing="ij")
        n = fh * fw
        out.append(np.stack([((j + 0.5) / (imw / step)).ravel(), ((i + 0.5) / (imh / step)).ravel(), np.full(n, m / imw), np.full(n, m / imh)], 1))
    return torch.from_numpy(np.concatenate(out).astype(np.float32))


def point_form(p):
    return torch.cat([p[:, :2] - p[:, 2:] / 2, p[:, :2] + p[:, 2:] / 2], 1)


def jaccard(a, b):
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(2)
    area_a = ((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]))[:, None]
    area_b = ((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))[None, :]
    return inter / (area_a + area_b - inter)


def encode(matched, priors):
    g_cxcy = ((matched[:, :2] + matched[:, 2:]) / 2 - priors[:, :2]) / (VARIANCE[0] * priors[:, 2:])
    g_wh = torch.log((matched[:, 2:] - matched[:, :2]) / priors[:, 2:]) / VARIANCE[1]
    return torch.cat([g_cxcy, g_wh], 1)


def match(truths, labels, priors, priors_pf, stable=False):
    """bbox_utils.match: IoU ≥ 0.35 (+ forced best prior per face), then the S3FD stage-2 top-up.
    `stable`: tied overlaps at the stage-2 cut go to the lower prior index (the studio's rule); the
    reference's unstable sort may pick another of the tied priors, which moves loss_l by ~1e-3."""
    overlaps = jaccard(truths, priors_pf)
    best_prior_overlap, best_prior_idx = overlaps.max(1)
    best_truth_overlap, best_truth_idx = overlaps.max(0)
    best_truth_overlap.index_fill_(0, best_prior_idx, 2)
    for j in range(best_prior_idx.size(0)):
        best_truth_idx[best_prior_idx[j]] = j
    n = (int((best_prior_overlap >= TH2).sum()) + int((best_prior_overlap >= TH3).sum())) // 2
    conf = labels[best_truth_idx].long()
    conf[best_truth_overlap < TH2] = 0
    loc = encode(truths[best_truth_idx], priors)
    candidates = (best_truth_overlap > TH1) & (best_truth_overlap < TH2)
    stage2_overlap, stage2_idx = torch.where(candidates, best_truth_overlap, torch.zeros_like(best_truth_overlap)).sort(descending=True, stable=stable)
    if n > 0:
        n = min(n, int((stage2_overlap[:n] > TH1).sum()))
        conf[stage2_idx[:n]] += 1
    return loc, conf


def multibox_loss(loc_p, conf_p, priors, targets, stable=False):
    """SPEC §7: smooth-L1 on positives, cross-entropy on positives and 3:1 hard negatives, both / num_pos."""
    B, P = conf_p.shape[:2]
    priors_pf = point_form(priors)
    with torch.no_grad():
        m = [match(t[:, :4], t[:, 4], priors, priors_pf, stable) for t in targets]
        loc_t, conf_t = torch.stack([a for a, _ in m]), torch.stack([b for _, b in m])
        pos = conf_t > 0
        batch_conf = conf_p.reshape(-1, 2)
        x_max = batch_conf.max()
        lc = (torch.log(torch.exp(batch_conf - x_max).sum(1)) + x_max - batch_conf.gather(1, conf_t.view(-1, 1))[:, 0]).view(B, P)
        lc[pos] = 0
        _, loss_idx = lc.sort(1, descending=True)
        _, idx_rank = loss_idx.sort(1)
        num_pos = pos.long().sum(1, keepdim=True)
        neg = idx_rank < torch.clamp(NEG_POS * num_pos, max=P - 1)
    n = num_pos.sum().float()
    loss_l = F.smooth_l1_loss(loc_p[pos], loc_t[pos], reduction="sum") / n
    keep = pos | neg
    loss_c = F.cross_entropy(conf_p[keep], conf_t[keep], reduction="sum") / n
    return loss_l, loss_c, int(n)


def trainable_keys(sd, table):
    """Weights and biases of every conv and BN of the table, and the FPN fusion weights (no running stats)."""
    keys = {}
    for c in table["convs"]:
        keys[c["name"] + ".weight"] = 1
        if c["bias"]:
            keys[c["name"] + ".bias"] = 1
        if c["bn"]:
            keys[c["bn"] + ".weight"] = keys[c["bn"] + ".bias"] = 1
    keys["base.m0.layer6.w1"] = 1
    return [k for k in keys if k in sd]


if __name__ == "__main__":
    torch.set_num_threads(1)
    pth, table_path, batch_path, targets_path, B, S = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
    sd = torch.load(pth, map_location="cpu")
    table = json.load(open(table_path))
    params = [sd[k].requires_grad_(True) for k in trainable_keys(sd, table)]
    forward = build_forward(sd, table, train=True, split=True)
    optimizer = torch.optim.Adam(params, lr=1e-3, weight_decay=5e-4)
    x = torch.from_numpy(np.fromfile(batch_path, dtype=np.float32).reshape(B, 3, S, S))
    targets = [torch.tensor(t, dtype=torch.float32).reshape(-1, 5) for t in json.load(open(targets_path))]

    def step(check=False):
        optimizer.zero_grad()
        loc, conf, sizes = forward(x)
        priors = prior_boxes(sizes, S, S)
        loss_l, loss_c, num_pos = multibox_loss(loc, conf, priors, targets)
        (loss_l + loss_c).backward()
        optimizer.step()
        if check:
            with torch.no_grad():
                tied = multibox_loss(loc, conf, priors, targets, stable=True)
            print(f"loss {loss_l.item()!r} {loss_c.item()!r} {num_pos} {tied[0].item()!r} {tied[1].item()!r}", flush=True)

    step(check=True)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "q":
            break
        t0 = time.perf_counter()
        step()
        print(f"{(time.perf_counter() - t0) * 1000:.4f}", flush=True)
