/**
 * Errors every layer raises or catches: a run that was aborted (a signal, SIGTERM, a deadline) and
 * a configuration value that is wrong. Each has a stable `code`, so no caller matches on text.
 */

/** The caller aborted (AbortSignal, e.g. SIGTERM). Never retried; writes no `exhausted` row. */
export class AbortedError extends Error {
  readonly code = 'ABORTED'
  constructor(reason?: unknown) {
    super(typeof reason === 'string' ? `aborted: ${reason}` : 'aborted', {cause: reason instanceof Error ? reason : undefined})
    this.name = 'AbortedError'
  }
}

/** A configuration value is invalid; `fix` is a paste-ready correction. Usage error (exit 64). */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message)
    this.name = 'ConfigError'
  }
}
