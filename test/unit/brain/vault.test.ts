/**
 * One unreadable subdirectory never fails a whole source (issue 10, class 4): it is skipped and
 * counted; only an unreadable root fails. Made unreadable the way that works as root too: a
 * directory whose path is longer than PATH_MAX (ENAMETOOLONG), built with relative `cd`s.
 */
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {listMarkdownFiles} from '../../../src/brain/vault.js'

let root: string
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'gbrain-vault-'))
  writeFileSync(path.join(root, 'a.md'), '# A\n')
  mkdirSync(path.join(root, 'ok'))
  writeFileSync(path.join(root, 'ok', 'b.md'), '# B\n')
  // 20 levels of 250-character names: the deepest paths exceed PATH_MAX (4096).
  const deep = path.join(root, 'deep')
  mkdirSync(deep)
  execFileSync(
    process.execPath,
    [
      '-e',
      `
    const fs = require('node:fs'); const d = 'a'.repeat(250)
    for (let i = 0; i < 20; i++) { fs.mkdirSync(d); process.chdir(d) }
    fs.writeFileSync('z.md', '# Z')`,
    ],
    {cwd: deep},
  )
})
afterAll(() => {
  // rm -r copes with the long paths by descending relatively.
  execFileSync('rm', ['-rf', root])
})

describe('listMarkdownFiles', () => {
  it('skips and reports a subdirectory it cannot read, and lists everything else', async () => {
    const l = await listMarkdownFiles(root)
    expect(l.files).toEqual([path.join(root, 'a.md'), path.join(root, 'ok', 'b.md')].sort())
    expect(l.unreadableDirs.length).toBeGreaterThanOrEqual(1)
    expect(l.unreadableDirs.every((d) => d.code === 'ENAMETOOLONG')).toBe(true)
  })

  it('an unreadable root still fails: the source itself is missing', async () => {
    await expect(listMarkdownFiles(path.join(root, 'missing'))).rejects.toMatchObject({code: 'ENOENT'})
  })
})
