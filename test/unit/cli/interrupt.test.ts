/**
 * Ctrl-C and SIGTERM for commands that write: the first signal aborts the work once, later ones
 * are ignored; only an abort caused by our signal counts as an interruption; the one line and the
 * JSON document say what to rerun, with the shell's exit status for the signal.
 */
import {describe, expect, it} from 'vitest'
import {Interrupt, interruptedOutput, SIGNAL_EXIT} from '../../../src/cli/interrupt.js'
import {AbortedError} from '../../../src/shared/errors.js'

describe('Interrupt', () => {
  it('the first signal aborts the work and is remembered; later signals change nothing', () => {
    const told: string[] = []
    const stop = new Interrupt((s) => told.push(s))
    expect(stop.signal.aborted).toBe(false)
    stop.stop('SIGINT')
    stop.stop('SIGTERM')
    stop.stop('SIGINT')
    expect(stop.signal.aborted).toBe(true)
    expect(stop.signal.reason).toBe('SIGINT')
    expect(stop.received).toBe('SIGINT')
    expect(told).toEqual(['SIGINT'])
  })

  it('an abort is an interruption only after our signal; any other error stays an error', () => {
    const stop = new Interrupt()
    const aborted = new AbortedError('SIGINT')
    expect(stop.caused(aborted)).toBe(false)
    stop.stop('SIGTERM')
    expect(stop.caused(aborted)).toBe(true)
    // The abort wrapped as a cause (a driver's error around it) is still ours.
    expect(stop.caused(new Error('query failed', {cause: aborted}))).toBe(true)
    expect(stop.caused(Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'}))).toBe(false)
  })

  it('listens for SIGINT and SIGTERM while asked to, and stops listening after', () => {
    const before = {int: process.listenerCount('SIGINT'), term: process.listenerCount('SIGTERM')}
    const stop = new Interrupt()
    const unlisten = stop.listen()
    expect(process.listenerCount('SIGINT')).toBe(before.int + 1)
    expect(process.listenerCount('SIGTERM')).toBe(before.term + 1)
    process.emit('SIGTERM', 'SIGTERM')
    expect(stop.received).toBe('SIGTERM')
    unlisten()
    expect(process.listenerCount('SIGINT')).toBe(before.int)
    expect(process.listenerCount('SIGTERM')).toBe(before.term)
  })

  it('says what to rerun, in one line and as the --json document, with 130 for SIGINT and 143 for SIGTERM', () => {
    expect(SIGNAL_EXIT).toEqual({SIGINT: 130, SIGTERM: 143})
    expect(interruptedOutput('SIGINT', 'gbrain cycle')).toEqual({
      line: 'gbrain: interrupted; rerun `gbrain cycle` to finish — nothing lost',
      json: {
        schema_version: 2,
        status: 'interrupted',
        signal: 'SIGINT',
        exit_code: 130,
        rerun: 'gbrain cycle',
        message: 'interrupted; rerun `gbrain cycle` to finish — nothing lost',
      },
    })
    expect(interruptedOutput('SIGTERM', 'gbrain repair --replay').line).toBe(
      'gbrain: stopped by SIGTERM; rerun `gbrain repair --replay` to finish — nothing lost',
    )
  })
})
