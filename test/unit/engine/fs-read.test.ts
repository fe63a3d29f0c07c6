/** Reading a file someone may have planted: bounded, no symlink followed, no FIFO waited on. */
import {mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {readSmallFileSync} from '../../../src/shared/fs-read.js'

const root = mkdtempSync(path.join(os.tmpdir(), 'gbrain-fs-read-'))
afterAll(() => rmSync(root, {recursive: true, force: true}))
const code = (f: () => unknown): string | undefined => {
  try {
    f()
  } catch (e) {
    return (e as NodeJS.ErrnoException).code
  }
  return undefined
}

describe('readSmallFileSync', () => {
  it('reads a regular file whole, up to and including the bound', () => {
    const f = path.join(root, 'ok')
    writeFileSync(f, 'x'.repeat(100))
    expect(readSmallFileSync(f, 100)).toBe('x'.repeat(100))
  })

  it('refuses what is larger than the bound instead of cutting it', () => {
    const f = path.join(root, 'big')
    writeFileSync(f, 'x'.repeat(101))
    expect(code(() => readSmallFileSync(f, 100))).toBe('EFBIG')
  })

  // A FIFO is covered in pglite-lock-protocol.test.ts, in a child process with a bound: a
  // regression there would block this synchronous read, and with it the whole test worker.

  it('does not follow a symlink', () => {
    const target = path.join(root, 'target')
    writeFileSync(target, 'secret')
    const link = path.join(root, 'link')
    symlinkSync(target, link)
    expect(code(() => readSmallFileSync(link))).toBe('ELOOP')
  })
})
