/**
 * Issue 11, item 1: `npm test` provisions what the suites need through scripts/provision.sh
 * (the one list, shared with .ci/run). Here, where it has run already, it is a silent no-op as
 * root; as a user who is not root it stops at once with one line saying what to do — never a
 * "Permission denied" from a missing binary, never skipped tests.
 */
import {spawnSync} from 'node:child_process'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

const SCRIPT = path.resolve('scripts/provision.sh')

describe('scripts/provision.sh', () => {
  it('as root on a provisioned machine: exit 0, prints nothing', () => {
    const r = spawnSync('bash', [SCRIPT], {encoding: 'utf8', timeout: 60_000})
    expect(r.status).toBe(0)
    expect(r.stdout + r.stderr).toBe('')
  })

  it('as another user: exit 1 at once with one line naming the fix', () => {
    const t = Date.now()
    const r = spawnSync('runuser', ['-u', 'nobody', '--', 'bash', SCRIPT], {encoding: 'utf8', timeout: 60_000})
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^npm test: .*sudo (apt-get install -y [a-z0-9 -]+|npm test)/)
    expect(Date.now() - t).toBeLessThan(10_000) // no apt-get, no network: a few ms plus process start
  })
})
