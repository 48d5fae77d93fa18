/** `info --model X.pth [--json]`: parameters, zero-parameter sparsity (SPEC §3.4), per-group counts. */
import { describeModel } from '../../core/index.ts';
import { GROUPS_FLAG, groupingOf, loadStateDict, parseFlags, print, requireFlag } from './common.ts';

export async function info(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { model: { type: 'string' }, groups: GROUPS_FLAG });
  const grouping = groupingOf(flags.groups);
  const sd = await loadStateDict(requireFlag(flags, 'model'));
  const m = describeModel(sd, grouping);
  const out = {
    parameters: m.parameters,
    sparsity: m.sparsity,
    groups: m.groups.map((g) => ({ name: g.name, parameters: g.parameters, zeros: g.zeros })),
    heads: { parameters: m.ungrouped.parameters, zeros: m.ungrouped.zeros },
    macs_480x640: m.macs480x640,
  };
  print(!!flags.json, out, () =>
    [
      `parameters  ${m.parameters.toLocaleString('en-US')}`,
      `sparsity    ${m.sparsity.toFixed(3)} % (zero parameters)`,
      `MACs        ${m.macs480x640.toLocaleString('en-US')} at 480×640`,
      `groups (${grouping.label}):`,
      ...m.groups.map((g, i) => `  ${i + 1}. ${g.name.padEnd(14)} ${String(g.parameters).padStart(6)} params, ${(100 * g.zeros / g.parameters).toFixed(2)} % zero`),
      `  -  heads          ${String(m.ungrouped.parameters).padStart(6)} params (never pruned)`,
    ].join('\n'),
  );
}
