// `writ policy compile --target claude-code`: the policy's native backstop as Claude Code managed settings,
// printed or written (0644: Claude Code runs as every user, and each must read it). Read → compile (pure) → write.
import { constants } from 'node:fs';
import { access, chmod, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { bundledShimPath } from '../../agents/claude-code/install.js';
import { planInstall, writHookCommands } from '../../agents/claude-code/settings.js';
import { readEnrollment } from '../../daemon/enrollment.js';
import { readPolicyDir } from '../../home/policy-files.js';
import { resolveWritHome } from '../../home/writ-home.js';
import { compileClaudeCode, formatManagedSettings, preparePolicy, type ClaudeHooksSetting } from '../../policy/index.js';
import { UsageError } from '../command.js';
import { oneOf } from '../options.js';

const TARGETS = ['claude-code'] as const;
const MANAGED_FILE_MODE = 0o644;

/** `writ policy compile`: wired into `writ policy` (policy.ts), like `publish`. */
export const policyCompileCommand = {
  usage: 'policy compile --target claude-code [--policy DIR] [--out FILE] [--hooks command|none] [--shim PATH] [--home DIR]',
  options: { target: { type: 'string' }, out: { type: 'string' }, hooks: { type: 'string' }, shim: { type: 'string' } } as const,
  async run(values: Record<string, string | boolean | undefined>, rest: string[], dir: string): Promise<number> {
    if (rest.length > 0) throw new UsageError(`policy compile takes no arguments (got "${rest.join(' ')}")`);
    if (values.target === undefined) throw new UsageError(`policy compile needs --target (one of ${TARGETS.join(', ')})`);
    if (!TARGETS.includes(values.target as (typeof TARGETS)[number])) {
      throw new UsageError(`unknown target "${values.target}": policy compile knows ${TARGETS.join(', ')}`);
    }
    const withHooks = oneOf(values.hooks, '--hooks', ['command', 'none'] as const, 'command') === 'command';
    if (!withHooks && values.shim !== undefined) throw new UsageError('--shim names the hook shim, so it cannot go with --hooks none');
    if (values.out !== undefined && (typeof values.out !== 'string' || values.out === '')) throw new UsageError('--out needs a file name');
    const warn = (text: string) => process.stderr.write(`warning: ${text}\n`);

    const policy = preparePolicy(readPolicyDir(dir));
    const home = resolveWritHome(values.home as string | undefined);
    const enrollment = readEnrollment(home.enrollment);
    const shimPath = resolve((values.shim as string | undefined) ?? bundledShimPath());
    const { settings, warnings } = compileClaudeCode(policy, {
      hooks: withHooks ? managedHooks(shimPath) : undefined,
      telemetry: enrollment && { endpoint: enrollment.server, token: enrollment.telemetry_token },
    });
    warnings.forEach(warn);
    if (withHooks && !(await isExecutable(shimPath))) warn(`no executable hook shim at ${shimPath}: on this machine these hooks would block every tool call`);
    if (!withHooks) warn("allowManagedHooksOnly stops user and project hooks, so install Writ's hooks as managed ones: writ install claude-code --scope managed");
    if (!enrollment) warn(`not enrolled (no ${home.enrollment}), so no telemetry settings`);

    const text = formatManagedSettings(settings);
    if (values.out === undefined) {
      process.stdout.write(text);
      return 0;
    }
    const out = resolve(values.out as string);
    await writeFileAtomic(out, text);
    process.stderr.write(`wrote ${out}\n`);
    return 0;
  },
};

/**
 * Writ's hooks as a managed `hooks` value, from the same builder `writ install` uses. No --home: managed
 * settings serve every user, and each user's shim must reach their own daemon.
 */
function managedHooks(shimPath: string): ClaudeHooksSetting {
  return (JSON.parse(planInstall(undefined, writHookCommands({ transport: 'command', shimPath }))) as { hooks: ClaudeHooksSetting }).hooks;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Written in full beside the target, then renamed over it: Claude Code never reads half a file. */
async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${Date.now().toString(36)}-${process.pid}.writ-compile.tmp`);
  try {
    await writeFile(temporary, text, { mode: MANAGED_FILE_MODE, flag: 'wx' });
    await chmod(temporary, MANAGED_FILE_MODE); // the umask may have narrowed it
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new Error(`couldn't write ${path}: ${(error as Error).message}`, { cause: error });
  }
}
