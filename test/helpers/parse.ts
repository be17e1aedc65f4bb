import type { Context } from '../../src/cli/context.js';
import { buildProgram, type CommandName } from '../../src/cli/program.js';

/**
 * The command line as the real program parses it, without running anything: the command it
 * picks and the typed flags it would hand over, or the error a user would see.
 */
export async function parse(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ command: CommandName; flags: Record<string, unknown> }> {
  let seen: { command: CommandName; flags: Record<string, unknown> } | undefined;
  const saved = process.env.REPLICA_DEMO_BASE_IMAGE;
  // commander reads option environment variables from process.env.
  if ('REPLICA_DEMO_BASE_IMAGE' in env)
    process.env.REPLICA_DEMO_BASE_IMAGE = env.REPLICA_DEMO_BASE_IMAGE;
  else delete process.env.REPLICA_DEMO_BASE_IMAGE;
  try {
    const program = buildProgram({} as Context, '0.0.0-test', (command, flags) => {
      seen = { command, flags: flags as Record<string, unknown> };
      return Promise.resolve();
    });
    await program.parseAsync(argv, { from: 'user' });
  } finally {
    if (saved === undefined) delete process.env.REPLICA_DEMO_BASE_IMAGE;
    else process.env.REPLICA_DEMO_BASE_IMAGE = saved;
  }
  if (seen === undefined) throw new Error(`no command ran for ${argv.join(' ')}`);
  return seen;
}

/** The error parsing (or `then`) throws; fails the test when nothing is thrown. */
export async function parseError(argv: string[], then?: (flags: never) => unknown): Promise<Error> {
  try {
    const { flags } = await parse(argv);
    then?.(flags as never);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`expected ${argv.join(' ')} to be refused`);
}
