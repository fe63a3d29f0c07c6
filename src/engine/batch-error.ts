/**
 * The error a batch write ends with when its retries are exhausted: its rows are in the
 * dead-letter spool (`BATCH_SPOOLED`), or — loudly — lost because the spool write failed too
 * (`BATCH_LOST`). The message is what the CLI prints; the fix names `gbrain repair --replay`.
 */
import type {Classified} from './classify.js'

export interface BatchFailure {
  site: string
  /** How many rows the batch held. */
  rows: number
  attempts: number
  /** The spool entry holding the rows; undefined when the spool write failed. */
  deadLetterId: string | undefined
  classified: Classified
  /** The last error of the write. */
  cause: unknown
  /** Why the rows could not be spooled (only when `deadLetterId` is undefined). */
  spoolError?: unknown
}

/** The batch could not be landed; its rows are in the dead-letter spool (or, loudly, lost). */
export class BatchFailedError extends Error {
  // Declared in this order so the error's own keys keep the order they always had.
  readonly site: string
  readonly rows: number
  readonly attempts: number
  readonly deadLetterId: string | undefined
  readonly classified: Classified
  readonly code: 'BATCH_SPOOLED' | 'BATCH_LOST'

  constructor(failure: BatchFailure) {
    const {site, rows, attempts, deadLetterId, classified, cause, spoolError} = failure
    const spooled = deadLetterId !== undefined
    super(
      spooled
        ? `batch ${site} (${rows} rows) failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${classified.message}; rows saved to the dead-letter spool as ${deadLetterId} (fix: gbrain repair --replay)`
        : `ROWS LOST: batch ${site} (${rows} rows) failed after ${attempts} attempts (${classified.message}) AND the dead-letter spool write failed: ${spoolError instanceof Error ? spoolError.message : String(spoolError)}`,
      {cause},
    )
    this.site = site
    this.rows = rows
    this.attempts = attempts
    this.deadLetterId = deadLetterId
    this.classified = classified
    this.code = spooled ? 'BATCH_SPOOLED' : 'BATCH_LOST'
    this.name = 'BatchFailedError'
  }
}
