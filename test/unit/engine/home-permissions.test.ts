/**
 * Issue 10, class 9: a home another user can write (they could swap config.json) or a config
 * file others can read (it holds the database URL) is reported by the doctor's audit_log check
 * with the chmod that fixes it, and tightened where we create or own the directory.
 */
import {chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {judgeAuditLog} from '../../../src/checks/audit-log.js'
import {gatherAuditFiles} from '../../../src/checks/facts/audit-files.js'
import {ensurePrivateDir} from '../../../src/shared/fs-atomic.js'
import {resolvePaths} from '../../../src/engine/paths.js'

let root: string
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'gbrain-home-'))
})
afterEach(() => rmSync(root, {recursive: true, force: true}))

async function findings(): Promise<{paths: string[]; message: string; commands: string[]}> {
  const paths = resolvePaths({GBRAIN_HOME: root})
  const facts = await gatherAuditFiles(paths, Date.now())
  const outcome = judgeAuditLog({files: facts, scans: []})
  return {paths: facts.wide_modes.map((m) => m.path), message: outcome.message, commands: outcome.fix?.commands ?? []}
}

describe('home and config permissions', () => {
  it('a world-writable home and a group-readable config are reported with the chmod that fixes them', async () => {
    const home = path.join(root, '.gbrain')
    mkdirSync(home)
    chmodSync(home, 0o777)
    writeFileSync(path.join(home, 'config.json'), '{"engine":"pglite"}')
    chmodSync(path.join(home, 'config.json'), 0o640)
    const f = await findings()
    expect(f.paths).toEqual([home, path.join(home, 'config.json')])
    expect(f.message).toContain(`${home} (0777, expected 0700)`)
    expect(f.message).toContain(`${path.join(home, 'config.json')} (0640, expected 0600)`)
    expect(f.commands).toEqual([`chmod 700 ${home}`, `chmod 600 ${path.join(home, 'config.json')}`])
  })

  it('a gbrain-made home (0755) and a private config are not findings: only write for others and read of the config', async () => {
    const home = path.join(root, '.gbrain')
    mkdirSync(home)
    chmodSync(home, 0o755)
    writeFileSync(path.join(home, 'config.json'), '{}', {mode: 0o600})
    expect((await findings()).paths).toEqual([])
  })

  it('ensurePrivateDir (init, the spool, the run dir) takes the write bits of others away from a directory we own, and creates new ones 0700', async () => {
    const open = path.join(root, 'open')
    mkdirSync(open)
    chmodSync(open, 0o777)
    await ensurePrivateDir(open)
    expect(statSync(open).mode & 0o777).toBe(0o755)
    const fresh = path.join(root, 'a', 'b')
    await ensurePrivateDir(fresh)
    expect(statSync(fresh).mode & 0o777).toBe(0o700)
  })
})
