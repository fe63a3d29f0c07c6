/**
 * Issue 10, classes 1 and 6, end to end: a brain made by gbrain's own PGlite whose sources
 * table holds hostile text — an id with newlines, a `::stop-commands::` and a `##[` line, escape
 * sequences, and a 100,000-character name. Every command that prints it (the doctor in every
 * format, the HTML page included) answers within its budget, and nothing it prints (stdout or
 * stderr, any format) is a CI workflow command or a terminal control sequence.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {gbrain} from '../helpers/cli.js'
import {homeFrom, removeHomes, tempDir} from '../helpers/doctor-kit.js'
import {makeGbrainBrain} from '../helpers/gbrain-sim.js'

const EVIL_ID = 'ok\n::stop-commands::tok\n  ::error file=x::pwned\r##[error]old\u001b]0;title\u0007\u001b[2J'
const LONG_NAME = `n ${'long-name-'.repeat(10_000)}`

let root: string
let template: string

beforeAll(async () => {
  root = tempDir('gbrain-hostile-')
  const vault = path.join(root, 'vault')
  mkdirSync(vault)
  writeFileSync(path.join(vault, 'a.md'), '# A\n')
  template = path.join(root, 'template.pglite')
  await makeGbrainBrain(template, {
    sources: [{id: EVIL_ID, name: LONG_NAME, local_path: vault, cycled_hours_ago: 30, synced_hours_ago: 30}],
  })
}, 120_000)
afterAll(removeHomes)

function home(): Record<string, string> {
  return {GBRAIN_HOME: homeFrom(root, {dataDir: template}).home, LANG: 'C.UTF-8'}
}

/** Lines a GitHub runner would run (CR, LF and CRLF split lines; leading white space trimmed). */
const workflowLines = (text: string): string[] => text.split(/\r\n|\r|\n/).filter((l) => /^\s*::/.test(l) || l.includes('##['))
const rawControl = (text: string): boolean => /[\u0000-\u0008\u000b-\u001f\u007f]/.test(text.replace(/\u001b\[[0-9;]*m/g, ''))

describe('hostile text in gbrain’s sources table', () => {
  it('gbrain doctor (table, every format) stays bounded and prints no workflow command or control sequence', async () => {
    const env = home()
    for (const args of [
      ['doctor'],
      ['doctor', '--verbose'],
      ['doctor', '--format', 'nagios'],
      ['doctor', '--format', 'junit'],
      ['doctor', '--format', 'html'],
      ['doctor', '--json'],
    ]) {
      const t = Date.now()
      const r = await gbrain([...args, '--deadline', '30s'], env)
      const wall = Date.now() - t
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(args.includes('nagios') ? 2 : 1)
      expect(workflowLines(r.stdout), args.join(' ')).toEqual([])
      expect(workflowLines(r.stderr), args.join(' ')).toEqual([])
      expect(rawControl(r.stdout) || rawControl(r.stderr), args.join(' ')).toBe(false)
      // 30 s deadline + 6 s of stated start-up slack on a loaded CI machine (before: minutes).
      expect(wall).toBeLessThan(36_000)
      if (args.includes('html')) {
        expect(r.stdout).toContain('stop-commands') // shown, escaped
        expect(r.stdout).not.toMatch(/<script|\u001b/i)
        expect(r.stdout.length).toBeLessThan(200_000)
      }
      if (args.length === 1) {
        expect(r.stdout).toContain('stop-commands')
        expect(r.stdout.length).toBeLessThan(40_000)
      }
    }
  }, 240_000)

  it('sources list and cycle show the rows safely, and an error naming hostile input is one safe line', async () => {
    const env = home()
    const list = await gbrain(['sources', 'list'], env)
    expect(list.code, list.stderr).toBe(0)
    expect(list.stdout).toContain('stop-commands')
    expect(workflowLines(list.stdout)).toEqual([])
    expect(rawControl(list.stdout)).toBe(false)
    expect(list.stdout.length).toBeLessThan(40_000)
    const json = await gbrain(['sources', 'list', '--json'], env)
    expect(workflowLines(json.stdout)).toEqual([])
    const parsed = JSON.parse(json.stdout) as {sources: {id: string; name: string}[]}
    expect(parsed.sources.map((s) => s.id)).toContain(EVIL_ID) // lossless for machines
    const cycled = await gbrain(['cycle', '--source', EVIL_ID], env)
    expect(cycled.code, cycled.stderr).toBe(0)
    expect(cycled.stdout).toContain('stop-commands')
    expect(workflowLines(cycled.stdout + cycled.stderr)).toEqual([])
    expect(rawControl(cycled.stdout + cycled.stderr)).toBe(false)
    const bad = await gbrain(['cycle', '--source', `${EVIL_ID}-missing`], env)
    expect(bad.code).toBe(64)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    expect(workflowLines(bad.stderr)).toEqual([])
    expect(rawControl(bad.stderr)).toBe(false)
  }, 120_000)
})
