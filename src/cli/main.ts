import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { createContext, type ContextOptions } from './context.js';
import { ExitCode, ReplicaDemoError, StatusExit } from './errors.js';
import { buildProgram } from './program.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Where options end: at `--`, or the end of the command line. */
function endOfOptions(argv: string[]): number {
  const at = argv.indexOf('--');
  return at < 0 ? argv.length : at;
}

/**
 * Parse, run, and the one place where an error becomes an exit code. `io` replaces the
 * process's streams and environment, so the whole CLI can run inside another program.
 */
export async function main(
  argv: string[],
  io: Omit<ContextOptions, 'signal'> = {},
): Promise<number> {
  const abort = new AbortController();
  let interrupts = 0;
  // Colour is settled before the command line is parsed (errors of parsing are printed too).
  const options = argv.slice(0, endOfOptions(argv));
  const env = options.includes('--no-color')
    ? { ...(io.env ?? process.env), NO_COLOR: '1' }
    : io.env;
  const ctx = createContext({ ...io, ...(env ? { env } : {}), signal: abort.signal });
  const onSignal = () => {
    interrupts += 1;
    // A second Ctrl-C means "now": skip the clean-up the first one started, and say what
    // that leaves.
    if (interrupts > 1) {
      ctx.printer.note(ctx.leftovers.describe());
      process.exit(ExitCode.Interrupted);
    }
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const program = buildProgram(ctx, packageVersion());

  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return ExitCode.Ok; // --help, --version
      if (error.code === 'commander.help') return ExitCode.Usage; // help already shown
      ctx.printer.note(
        `${error.message.replace(/^error: /, 'Error: ').replace(/\s*\n\s*/g, ' ')} (see \`replica-demo --help\`)`,
      );
      return ExitCode.Usage;
    }
    if (error instanceof StatusExit) {
      if (error.message !== '') ctx.printer.note(error.message);
      return error.exitCode;
    }
    if (error instanceof ReplicaDemoError) {
      // One line: what is wrong, then what to do about it.
      const hint = error.hint ? ` ${error.hint}` : '';
      ctx.printer.note(`${ctx.printer.color.red('Error:')} ${error.message}${hint}`);
      return error.exitCode;
    }
    if (abort.signal.aborted) {
      ctx.printer.note('Interrupted.');
      return ExitCode.Interrupted;
    }
    // One line, whatever a library put in its message (client-node adds headers and body).
    const message = (error instanceof Error ? error.message : String(error))
      .replace(/\s*\n\s*/g, ' ')
      .slice(0, 500);
    ctx.printer.note(`${ctx.printer.color.red('Unexpected error:')} ${message}`);
    if (ctx.env.REPLICA_DEMO_DEBUG && error instanceof Error) ctx.printer.note(error.stack ?? '');
    return ExitCode.Unexpected;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
