/** Convs the teaching steps offer, with a reader-friendly name (module paths as in the checkpoint). */
export const TEACH_CONVS: ReadonlyArray<{ name: string; label: string }> = [
  { name: 'base.conv1.0', label: 'conv1 — the first layer (RGB in)' },
  { name: 'base.conv2.0', label: 'conv2' },
  { name: 'base.conv3.0', label: 'conv3' },
  { name: 'base.conv4.res_layer.0', label: 'conv4, first conv' },
  { name: 'base.m0.layer1.0.res_layer.0', label: 'layer1, block 0, first conv' },
  { name: 'base.m0.layer2.0.res_layer.0', label: 'layer2, block 0, first conv' },
  { name: 'base.m0.layer3.1.res_layer.3', label: 'layer3, block 1, second conv' },
  { name: 'base.m0.layer4.0.res_layer.0', label: 'layer4, block 0, first conv' },
  { name: 'base.m0.layer6.itm.0.conv.0', label: 'FPN, refine conv itm.0' },
  { name: 'base.m0.layer7.res_branch1.0', label: 'FEM 0, branch 1 (8 filters)' },
];

export function teachConvLabel(name: string): string {
  return TEACH_CONVS.find((c) => c.name === name)?.label ?? name;
}
