"""PyTorch peer for the GPU report (bench-only): the SPEC EResFD of bench/peers/eresfd_torch.py on CUDA.
Times, in the same run as the studio's WebGPU figures, one inference at 480x640 and one training step
(train-mode BN, forward + backward of a surrogate loss on the heads + torch.optim.Adam) at 8x320 and 8x640,
with CUDA events, medians of repeats after a warm-up, eager mode. The surrogate loss stands in for MultiBoxLoss:
the figure bounds what the same network costs on this GPU, not our exact training step.
argv: checkpoint.pth table.json out.json
"""
import json
import os
import statistics
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, '..', 'peers')]  # in the kit beside it; in the repo in bench/peers
from eresfd_torch import build_forward

pth, table_path, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
dev = torch.device('cuda')
table = json.load(open(table_path))
sd = {k: v.to(dev).float() for k, v in torch.load(pth, map_location='cpu').items() if v.is_floating_point()}
report = {'device': torch.cuda.get_device_name(0), 'torch': torch.__version__, 'measurements': {}}

def timed(fn, warm=10, reps=50):
    for _ in range(warm): fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); fn(); b.record(); torch.cuda.synchronize(); ts.append(a.elapsed_time(b))
    return statistics.median(ts)

# Inference, eval-mode BN, batch 1, 480x640.
fwd = build_forward(sd, table, train=False)
x = torch.rand(1, 3, 480, 640, device=dev) * 255 - 117
with torch.no_grad():
    report['measurements']['torch_infer_480x640_ms'] = timed(lambda: fwd(x))

# Training step: params require grad, train-mode BN, Adam.
params = {k: v.clone().requires_grad_(True) for k, v in sd.items() if not k.endswith(('running_mean', 'running_var'))}
state = dict(sd); state.update(params)
opt = torch.optim.Adam(params.values(), lr=1e-3, weight_decay=5e-4)
train_fwd = build_forward(state, table, train=True)
for n, s in [(8, 320), (8, 640)]:
    xb = torch.rand(n, 3, s, s, device=dev) * 255 - 117
    def step():
        opt.zero_grad(set_to_none=True)
        out = train_fwd(xb)
        loss = out.float().pow(2).mean()
        loss.backward(); opt.step()
    ms = timed(step, warm=5, reps=30)
    report['measurements'][f'torch_train_{n}x{s}_ms_per_step'] = ms
    report['measurements'][f'torch_train_{n}x{s}_images_per_s'] = n * 1000 / ms
json.dump(report, open(out_path, 'w'), indent=2)
print(json.dumps(report, indent=2))
