/**
 * Issue 10, class 5: the doctor checks free space and writability where failed batches and
 * their audit rows go. The judge over hand-made facts (thresholds), and the gatherer on real
 * directories (one filesystem measured once; a missing directory measured at its parent).
 */
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {FAIL_FREE_BYTES, judgeDiskSpace, WARN_FREE_BYTES} from '../../../src/checks/disk-space.js'
import {gatherDisk, type DiskFacts} from '../../../src/checks/facts/disk.js'
import {resolvePaths} from '../../../src/engine/paths.js'

const GB = 1024 ** 3
const fsOf = (free: number, total = 100 * GB, writable = true): DiskFacts => ({
  filesystems: [{roles: ['audit', 'spool', 'run'], path: '/home/ops/.gbrain', free_bytes: free, total_bytes: total, writable}],
  errors: [],
})

describe('disk_space judge', () => {
  it('plenty free → ok, naming the free space', () => {
    const r = judgeDiskSpace(fsOf(50 * GB))
    expect(r.status).toBe('ok')
    expect(r.message).toBe('Free space for the audit trail, spool and run files: audit, spool, run 50.0 GB.')
  })
  it('below 256 MB, or below 5 % → warn with df', () => {
    expect(judgeDiskSpace(fsOf(WARN_FREE_BYTES - 1)).status).toBe('warn')
    const low = judgeDiskSpace(fsOf(4 * GB, 100 * GB))
    expect(low.status).toBe('warn')
    expect(low.message).toContain('4.0 GB free (4.0 %)')
    expect(low.fix?.commands[0]).toBe('df -h /home/ops/.gbrain')
  })
  it('a full disk (below 16 MB) or a directory this user cannot write → fail, saying why it matters', () => {
    const full = judgeDiskSpace(fsOf(0))
    expect(full.status).toBe('fail')
    expect(full.message).toBe(
      'audit, spool, run (/home/ops/.gbrain): 0 KB free. On a full disk a failed batch can be neither spooled nor recorded in the audit trail.',
    )
    expect(judgeDiskSpace(fsOf(FAIL_FREE_BYTES - 1)).status).toBe('fail')
    expect(judgeDiskSpace(fsOf(50 * GB, 100 * GB, false)).message).toContain('is not writable by its owner')
  })
})

describe('disk_space facts', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'gbrain-disk-'))
  afterAll(() => rmSync(root, {recursive: true, force: true}))
  it('measures each filesystem once, at the nearest existing parent of a missing directory', async () => {
    const facts = await gatherDisk(resolvePaths({GBRAIN_HOME: root}))
    expect(facts.errors).toEqual([])
    expect(facts.filesystems).toHaveLength(1)
    expect(facts.filesystems[0]).toMatchObject({roles: ['audit', 'spool', 'run'], path: root, writable: true})
    expect(facts.filesystems[0]!.free_bytes).toBeGreaterThan(0)
  })
})
