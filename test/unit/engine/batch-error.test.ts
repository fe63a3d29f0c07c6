/** BatchFailedError: the message the CLI prints and the fields callers read, from one options object. */
import {describe, expect, it} from 'vitest'
import {BatchFailedError} from '../../../src/engine/batch-error.js'
import {classify} from '../../../src/engine/classify.js'

const refused = classify(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {code: 'ECONNREFUSED'}))

describe('BatchFailedError', () => {
  it('spooled: names the dead-letter entry and the fix', () => {
    const e = new BatchFailedError({
      site: 'cycle.pages',
      rows: 2,
      attempts: 4,
      deadLetterId: 'dl-1',
      classified: refused,
      cause: new Error('x'),
    })
    expect(e.code).toBe('BATCH_SPOOLED')
    expect(e.message).toBe(
      `batch cycle.pages (2 rows) failed after 4 attempts: ${refused.message}; rows saved to the dead-letter spool as dl-1 (fix: gbrain repair --replay)`,
    )
    expect(Object.keys(e)).toEqual(['site', 'rows', 'attempts', 'deadLetterId', 'classified', 'code', 'name'])
    expect(e.cause).toBeInstanceOf(Error)
  })

  it('one attempt is singular', () => {
    expect(new BatchFailedError({site: 's', rows: 1, attempts: 1, deadLetterId: 'd', classified: refused, cause: null}).message).toContain(
      'failed after 1 attempt:',
    )
  })

  it('lost: says so loudly, with why the spool write failed', () => {
    const e = new BatchFailedError({
      site: 's',
      rows: 3,
      attempts: 2,
      deadLetterId: undefined,
      classified: refused,
      cause: null,
      spoolError: new Error('ENOSPC: no space left'),
    })
    expect(e.code).toBe('BATCH_LOST')
    expect(e.message).toBe(
      `ROWS LOST: batch s (3 rows) failed after 2 attempts (${refused.message}) AND the dead-letter spool write failed: ENOSPC: no space left`,
    )
  })
})
