/**
 * Error types the engine throws. Each carries a stable `code` so callers (and the classifier)
 * never match on message text of our own errors.
 */

/** The engine has no live client and could not establish one. Retryable. */
export class NoConnectionError extends Error {
  readonly code = 'NO_CONNECTION'
  constructor(message = 'No database connection', options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'NoConnectionError'
  }
}

/** An attempt ran past the engine's own timer. Retryable and in doubt (a write may have committed). */
export class AttemptTimeoutError extends Error {
  readonly code = 'ATTEMPT_TIMEOUT'
  constructor(
    readonly timeoutMs: number,
    what = 'database call',
  ) {
    super(`${what} did not settle within ${timeoutMs} ms (engine attempt timeout)`)
    this.name = 'AttemptTimeoutError'
  }
}

/** The engine was disconnected for good (`disconnect({final: true})`): it opens nothing again. */
export class EngineClosedError extends Error {
  readonly code = 'ENGINE_CLOSED'
  constructor() {
    super('the engine was closed for good; it opens no new connection')
    this.name = 'EngineClosedError'
  }
}
