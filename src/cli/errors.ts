/**
 * Every failure the tool can report on purpose. `main.ts` is the only place that turns
 * these into exit codes; commands throw, they never exit.
 */
export const ExitCode = {
  Ok: 0,
  Unexpected: 1,
  Usage: 2,
  DockerMissing: 3,
  DockerDaemonDown: 4,
  KindMissing: 5,
  KubectlMissing: 6,
  ClusterMissing: 7,
  ClusterUnreachable: 8,
  Refused: 9,
  NotManaged: 10,
  Timeout: 11,
  Failed: 12,
  EmbeddedCluster: 13,
  NotReady: 14,
  Interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** One line of what went wrong, and (optionally) one line of what to do about it. */
export class ReplicaDemoError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bad flag or argument. The message names the flag and the fix. */
export class UsageError extends ReplicaDemoError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.Usage, hint);
  }
}

/** A tool or cluster the command needs is missing or unreachable. */
export class PrerequisiteError extends ReplicaDemoError {}

/** The tool will not touch something it was not told it may touch. */
export class RefusedError extends ReplicaDemoError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.Refused, hint);
  }
}

/** The namespace exists but was not created by this tool. */
export class NotManagedError extends ReplicaDemoError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.NotManaged, hint);
  }
}

export class TimeoutError extends ReplicaDemoError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.Timeout, hint);
  }
}

/** A step ran and failed: a command exited non-zero, an API call was rejected, requests failed. */
export class OperationError extends ReplicaDemoError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.Failed, hint);
  }
}

/** The embedded cluster cannot start, is not running, or cannot do what was asked. */
export class EmbeddedClusterError extends ReplicaDemoError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.EmbeddedCluster, hint);
  }
}

export class InterruptedError extends ReplicaDemoError {
  constructor(message = 'Interrupted.', hint?: string) {
    super(message, ExitCode.Interrupted, hint);
  }
}

/**
 * Not a failure to report but an answer with its exit code: "not confirmed", "not running".
 * main.ts prints its message as it is (no "Error:"), or nothing when it has none.
 */
export class StatusExit extends ReplicaDemoError {}
