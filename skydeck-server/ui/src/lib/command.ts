import type { Flags, FlagValue } from '../api/types';
import { FlagNumber } from './json';

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One argument quoted for a POSIX shell, as the server quotes it. */
export function quote(arg: string): string {
  if (arg !== '' && arg[0] !== '=' && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'"'"'`)}'`;
}

/**
 * A flag value on the command line: decimals as the server wrote them (Python's repr), other
 * numbers as they are; a plain JS decimal (typed, not yet sent) keeps a decimal point.
 */
export function formatValue(v: FlagValue): string {
  if (v instanceof FlagNumber) return v.text;
  if (typeof v === 'number' && !Number.isInteger(v)) {
    const abs = Math.abs(v);
    if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
      const [m, e] = v.toExponential().split('e');
      const exp = Number(e);
      return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
    }
    return String(v);
  }
  return String(v);
}

/**
 * The command an experiment runs, previewed in the create form: base command, `--gpus`,
 * `--nodes`, `--git-ref`, the tool, `run=<name>`, then the flags sorted by key. The server's
 * rendering is the truth (each experiment carries its `command`); this only previews.
 */
export function renderCommand(spec: {
  base_command: string; gpus: number; nodes: number; git_branch?: string | null; tool_path?: string | null;
  name: string; flags: Flags;
}): string {
  const args = [spec.base_command.trim() || 'lt', `--gpus=${spec.gpus}`, `--nodes=${spec.nodes}`];
  if (spec.git_branch) args.push(`--git-ref=${spec.git_branch}`);
  if (spec.tool_path) args.push(spec.tool_path);
  args.push(`run=${spec.name}`);
  for (const k of Object.keys(spec.flags).sort()) args.push(`${k}=${formatValue(spec.flags[k]!)}`);
  const [head, ...rest] = args;
  return [head!, ...rest.map(quote)].join(' ');
}
