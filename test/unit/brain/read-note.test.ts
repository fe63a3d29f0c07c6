/**
 * readNote reads a note synchronously (the cycle reads while its batch is in flight): what it
 * must still refuse — a file over the size limit, a FIFO swapped in for a note (opened without
 * blocking, then skipped), binary content, a file gone since the listing — and what it returns
 * for a note.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {readNote} from '../../../src/brain/vault.js'

let root: string
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'gbrain-read-note-'))
})
afterAll(() => rmSync(root, {recursive: true, force: true}))

describe('readNote', () => {
  it('parses a note: slug from the path, sha1 of the bytes, title, entries and links', () => {
    const file = path.join(root, 'Some Dir', 'My Note.md')
    execFileSync('mkdir', ['-p', path.dirname(file)])
    writeFileSync(file, '# Title\n- 2024-02-29: leap day\n[[Other Note]]\n')
    const out = readNote(root, file)
    expect(out).toMatchObject({
      kind: 'note',
      slug: 'some-dir/my-note',
      hash: '6f4c6a34cc6f84199e0b395d929f4811c32a6d36',
      note: {title: 'Title', timeline: [{date: '2024-02-29', summary: 'leap day'}], links: ['other-note']},
    })
  })

  it('skips a file over the limit, at the limit reads it whole', () => {
    const file = path.join(root, 'big.md')
    writeFileSync(file, `# ${'x'.repeat(98)}`)
    expect(readNote(root, file, 99)).toEqual({kind: 'skipped', reason: 'huge', detail: '100 bytes'})
    const whole = readNote(root, file, 100)
    expect(whole.kind).toBe('note')
    if (whole.kind === 'note') expect(whole.note.title).toBe('x'.repeat(98))
  })

  it('an empty file is a note with the file name as its title', () => {
    const file = path.join(root, 'empty.md')
    writeFileSync(file, '')
    expect(readNote(root, file)).toMatchObject({kind: 'note', slug: 'empty', note: {title: 'empty', timeline: [], links: []}})
  })

  it('skips a FIFO named like a note without blocking on it', () => {
    const fifo = path.join(root, 'pipe.md')
    execFileSync('mkfifo', [fifo])
    expect(readNote(root, fifo)).toEqual({kind: 'skipped', reason: 'unreadable', detail: 'not a regular file'})
  })

  it('skips binary content and a missing file', () => {
    const bin = path.join(root, 'bin.md')
    writeFileSync(bin, Buffer.from([0x23, 0x20, 0x00, 0x01]))
    expect(readNote(root, bin)).toEqual({kind: 'skipped', reason: 'binary'})
    expect(readNote(root, path.join(root, 'gone.md'))).toEqual({kind: 'skipped', reason: 'unreadable', detail: 'ENOENT'})
  })
})
