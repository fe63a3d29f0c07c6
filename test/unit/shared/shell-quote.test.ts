/**
 * Paste-ready commands are safe to paste: whatever a source id or a path holds, the command we
 * print, parsed by a real POSIX shell, gives back exactly the argv we meant — and runs nothing else.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {judgeCycleFreshness} from '../../../src/checks/cycle-freshness.js'
import {judgeSyncFreshness} from '../../../src/checks/sync-freshness.js'
import {validateThresholds} from '../../../src/checks/thresholds.js'
import {flagArgs, shellCommand, shellQuote} from '../../../src/shared/shell-quote.js'

/** argv as `sh` parses `line` (each word printed NUL-terminated by printf). */
function shParse(line: string, cwd?: string): string[] {
  const out = execFileSync('sh', ['-c', `printf '%s\\0' ${line}`], {encoding: 'utf8', cwd})
  return out.split('\0').slice(0, -1)
}

// Any text but NUL (which no argv can hold); the shell must see every other byte literally.
const arg = fc.string({unit: 'binary', maxLength: 40}).filter((s) => !s.includes('\0'))
const nasty = fc.constantFrom(
  'x; touch pwned #',
  '$(touch pwned)',
  '`touch pwned`',
  "it's",
  'a\nb',
  '-rf',
  '',
  ' ',
  '*',
  '~',
  '!x',
  'a\\b',
  '"q"',
  '\u009b31m',
  '--source=x',
)

describe('shellQuote / shellCommand', () => {
  it('sh parses a quoted argument back to exactly itself, and runs nothing', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gbrain-quote-'))
    try {
      fc.assert(
        fc.property(fc.oneof(arg, nasty), (s) => {
          expect(shParse(shellQuote(s), dir)).toEqual([s])
        }),
        {numRuns: 150},
      )
      expect(existsSync(path.join(dir, 'pwned'))).toBe(false)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('a whole command keeps its words: argv in, the same argv out', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(arg, nasty), {minLength: 1, maxLength: 5}), (argv) => {
        expect(shParse(shellCommand(...argv))).toEqual(argv)
      }),
      {numRuns: 60},
    )
  })

  it('a value that looks like an option is glued to its flag', () => {
    expect(flagArgs('--source', '-rf')).toEqual(['--source=-rf'])
    expect(flagArgs('--source', 'notes')).toEqual(['--source', 'notes'])
    expect(shellCommand('gbrain', 'cycle', ...flagArgs('--source', 'notes'))).toBe('gbrain cycle --source notes')
  })
})

describe('the fixes the doctor prints are safe to paste (class: data in a paste-ready command)', () => {
  const t = validateThresholds({})
  const now = Date.parse('2026-11-30T12:00:00Z')
  it.each([
    ['cycle_freshness', judgeCycleFreshness],
    ['sync_freshness', judgeSyncFreshness],
  ] as const)('%s: a hostile source id becomes one quoted argument', (_name, judge) => {
    const id = 'x; touch pwned # $(id) `id`\nnext'
    const src = {id, name: id, local_path: '/v', last_sync_at: null, config: {}, archived: false, created_at: null}
    const out = judge([src], now, t)
    const cmd = out.fix?.commands.find((c) => c.startsWith('gbrain cycle'))
    expect(cmd).toBeDefined()
    expect(shParse(cmd!.replace(/^gbrain /, ''))).toEqual(['cycle', '--source', id])
  })
})
