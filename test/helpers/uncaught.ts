/**
 * Count uncaught exceptions and unhandled rejections during a test (fault scenarios demand 0;
 * postgres.js 3.4.9 can throw an uncaught TypeError from `nextWrite` after a backend kill).
 *
 * How this interacts with vitest 4 (checked in node_modules/vitest/dist/chunks/init.*.js): the
 * worker installs its own `uncaughtException`/`unhandledRejection` listeners, and they **skip
 * reporting when any other listener is attached** ("assume that it's handled by user code").
 * So while a tracker is active, vitest will NOT fail the run for these errors: the test must
 * assert on the counts itself (`expect(t.uncaught).toEqual([])`, or `t.assertNone()`).
 * After `stop()` vitest's default reporting is back. Listeners also prevent Node from crashing
 * the worker, so the test continues and can report what it saw.
 */

/** Handle returned by {@link trackUncaught}. */
export interface UncaughtTracker {
  /** Errors delivered to `uncaughtException` while tracking. */
  readonly uncaught: unknown[]
  /** Reasons delivered to `unhandledRejection` while tracking. */
  readonly unhandled: unknown[]
  /** Throw (with the collected errors as `cause`) if anything was seen. */
  assertNone(): void
  /** Detach the listeners. Idempotent. */
  stop(): void
}

/**
 * Start counting. Unhandled rejections are detected by Node at the end of the microtask queue
 * drain, so let at least one macrotask pass (e.g. `await delay(0)`) before reading the counts.
 */
export function trackUncaught(): UncaughtTracker {
  const uncaught: unknown[] = []
  const unhandled: unknown[] = []
  const onUncaught = (err: unknown): void => {
    uncaught.push(err)
  }
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason)
  }
  process.on('uncaughtException', onUncaught)
  process.on('unhandledRejection', onUnhandled)
  let stopped = false
  return {
    uncaught,
    unhandled,
    assertNone() {
      if (uncaught.length + unhandled.length === 0) return
      const describe = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))
      const err = new Error(
        `uncaught=${uncaught.length} unhandled=${unhandled.length}: ` + [...uncaught, ...unhandled].map(describe).join('; '),
      )
      ;(err as Error & {cause?: unknown}).cause = [...uncaught, ...unhandled]
      throw err
    },
    stop() {
      if (stopped) return
      stopped = true
      process.off('uncaughtException', onUncaught)
      process.off('unhandledRejection', onUnhandled)
    },
  }
}
