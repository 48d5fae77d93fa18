/** Writes the conv table the PyTorch peers build the network from (bench/peers/eresfd_torch.py). */
import { writeFileSync } from 'node:fs';
import { CONVS, STAGE_BLOCKS } from '../../src/core/data/index.ts';

writeFileSync(process.argv[2] ?? 'table.json', JSON.stringify({ convs: CONVS, stage_blocks: STAGE_BLOCKS }));
