/** The history as the HTML report draws it: the last 30 runs, or an empty trend and why. */
import {mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {historyPath} from '../../../src/history/file.js'
import {serializeLine} from '../../../src/history/line.js'
import {PICTURE_RUNS, pictureTrend} from '../../../src/history/picture-trend.js'
import {removeHomes, tempDir} from '../../helpers/doctor-kit.js'

afterAll(() => removeHomes())

const line = (i: number): string =>
  serializeLine({ts: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), score: i % 101, status: 'healthy', checks: {connection: 'ok'}})

describe('pictureTrend', () => {
  it(`draws the last ${PICTURE_RUNS} runs of a longer history, oldest first, skipping a bad line`, async () => {
    const home = tempDir('gbrain-picture-')
    const lines = Array.from({length: PICTURE_RUNS + 5}, (_, i) => line(i))
    lines.splice(PICTURE_RUNS, 0, 'not a history line\n')
    writeFileSync(historyPath(home), lines.join(''))
    const {trend, history_note} = await pictureTrend(home, true)
    expect(history_note).toBeUndefined()
    expect(trend.runs).toHaveLength(PICTURE_RUNS)
    expect(trend.runs[0]!.score).toBe(5)
    expect(trend.runs.at(-1)!.score).toBe(PICTURE_RUNS + 4)
    expect(trend.skipped).toBe(1)
    expect(trend.checks).toEqual([expect.objectContaining({name: 'connection', statuses: Array(PICTURE_RUNS).fill('ok')})])
  })

  it('no file: an empty trend and no note (the page says there is no history yet); history off or unreadable: the reason', async () => {
    const home = tempDir('gbrain-picture-')
    expect(await pictureTrend(home, true)).toEqual({trend: expect.objectContaining({runs: []})})
    expect((await pictureTrend(home, false)).history_note).toBe('--no-history: the history was neither read nor written')
    mkdirSync(path.join(home, 'elsewhere'))
    symlinkSync(path.join(home, 'elsewhere'), historyPath(home))
    const read = await pictureTrend(home, true)
    expect(read.trend.runs).toEqual([])
    expect(read.history_note).toMatch(/^the history could not be read: cannot read .*doctor-history\.jsonl \(ELOOP\)$/)
  })
})
