"""EResFD in PyTorch for the side-by-side bench (bench-only, never shipped): written from
../shared/reference/EResFD-SPEC.md §1 (B-FPGM wiring: c5 unused, h0 = td(L4, L4), level 5 = L4, FEM
concat, level-0 background max-out), eval mode, conv -> BatchNorm -> ReLU as PyTorch runs it (BN not
folded). The conv table (names, strides, paddings, ReLUs) comes from the studio's architecture table.

argv: checkpoint.pth table.json input.f32 (NCHW) H W heads.f32
Writes the heads (loc levels then conf levels, NHWC, flattened, float32) to heads.f32, prints "ready",
then answers each stdin line "t" with the ms of one forward (1 thread), and exits on "q".
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

BN_EPS, FPN_EPS = 1e-5, 1e-4


def build_forward(sd, table, train=False, split=False):
    """The network as a function of an NCHW batch; `train` = batch-statistics BN (running stats updated).
    `split`: returns (loc [B,P,4], conf [B,P,2], head map sizes) as the loss wants, instead of one flat vector."""
    convs = {c["name"]: c for c in table["convs"]}
    stage_blocks = table["stage_blocks"]

    def conv_bn(name, x):
        c = convs[name]
        y = F.conv2d(x, sd[name + ".weight"], sd.get(name + ".bias") if c["bias"] else None, c["stride"], c["pad"])
        if c["bn"]:
            b = c["bn"]
            y = F.batch_norm(y, sd[b + ".running_mean"], sd[b + ".running_var"], sd[b + ".weight"], sd[b + ".bias"], train, 0.1, BN_EPS)
        return F.relu(y) if c["relu"] else y

    def block(prefix, x, shortcut):
        y = conv_bn(prefix + ".res_layer.3", conv_bn(prefix + ".res_layer.0", x))
        return y + (conv_bn(prefix + ".shortcut_layer.0", x) if shortcut else x)

    def forward(x):
        c = conv_bn("base.conv3.0", conv_bn("base.conv2.0", conv_bn("base.conv1.0", x)))
        sources = [block("base.conv4", c, False)]
        for s in range(1, 5):
            y = sources[-1]
            for b in range(stage_blocks[s - 1]):
                y = block(f"base.m0.layer{s}.{b}", y, b == 0)
            sources.append(y)
        fpn = "base.m0.layer6"
        wr = F.relu(sd[fpn + ".w1"])
        wn = wr / (wr.sum(0, keepdim=True) + FPN_EPS)

        def fuse(a, b, j):
            return (wn[0, j] * a + wn[1, j] * b) / (wn[0, j] + wn[1, j] + FPN_EPS)

        def up(u, like):
            return u if u.shape[-2:] == like.shape[-2:] else F.interpolate(u, size=like.shape[-2:], mode="nearest")

        lat = [conv_bn(f"{fpn}.laterals.{i}.conv.0", s) for i, s in enumerate(sources)]
        h0 = fuse(lat[4], lat[4], 4)
        p3 = fuse(lat[3], up(sources[4], lat[3]), 3)
        p2 = fuse(lat[2], up(p3, lat[2]), 2)
        p1 = fuse(lat[1], up(p2, lat[1]), 1)
        p0 = fuse(lat[0], up(p1, lat[0]), 0)
        q1 = fuse(conv_bn(f"{fpn}.itm.0.conv.0", p1), sources[1], 5)
        q2 = fuse(conv_bn(f"{fpn}.itm.1.conv.0", p2), sources[2], 6)
        q3 = fuse(conv_bn(f"{fpn}.itm.2.conv.0", p3), sources[3], 7)
        q4 = fuse(conv_bn(f"{fpn}.itm.3.conv.0", h0), sources[4], 8)
        locs, confs, sizes = [], [], []
        for i, p in enumerate([p0, q1, q2, q3, q4, lat[4]]):
            m = f"base.m0.layer{7 + i}"
            r1 = conv_bn(m + ".res_branch1.0", p)
            r2 = conv_bn(m + ".res_branch2.3", conv_bn(m + ".res_branch2.0", r1))
            r3 = conv_bn(m + ".res_branch3.3", conv_bn(m + ".res_branch3.0", r2))
            s = F.relu(torch.cat([r1, r2, r3], 1))
            loc, conf = conv_bn(f"loc.{i}", s), conv_bn(f"conf.{i}", s)
            if i == 0:
                conf = torch.cat([conf[:, 0:3].max(1, keepdim=True)[0], conf[:, 3:4]], 1)
            if split:
                sizes.append(tuple(loc.shape[-2:]))
                locs.append(loc.permute(0, 2, 3, 1).reshape(loc.shape[0], -1, 4))
                confs.append(conf.permute(0, 2, 3, 1).reshape(conf.shape[0], -1, 2))
            else:
                locs.append(loc.permute(0, 2, 3, 1).reshape(-1))
                confs.append(conf.permute(0, 2, 3, 1).reshape(-1))
        if split:
            return torch.cat(locs, 1), torch.cat(confs, 1), sizes
        return torch.cat(locs + confs)

    return forward


if __name__ == "__main__":
    torch.set_num_threads(1)
    pth, table_path, input_path, H, W, heads_path = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    forward = build_forward(torch.load(pth, map_location="cpu"), json.load(open(table_path)))
    x = torch.from_numpy(np.fromfile(input_path, dtype=np.float32).reshape(1, 3, H, W))
    with torch.no_grad():
        forward(x).numpy().astype(np.float32).tofile(heads_path)
        print("ready", flush=True)
        for line in sys.stdin:
            if line.strip() == "q":
                break
            t0 = time.perf_counter()
            forward(x)
            print(f"{(time.perf_counter() - t0) * 1000:.4f}", flush=True)
