/**
 * `gbrain doctor --format html` in a real browser (issue 14, item 4): a real incident (PostgreSQL
 * 15 stopped mid-cycle, batches exhausted into the spool: test/helpers/incident.ts), a few doctor
 * runs so the history has lines, then the report written with --output-file and opened in Debian's
 * Chromium, headless, through playwright-core:
 *
 * - offline context; a route handler aborts and counts every request but the file itself, and
 *   every request the page makes is counted too: 0 either way (a control page with an image
 *   link shows the harness does see and count a request);
 * - no console error, no page error (the page's CSP would log one for anything it blocked);
 * - the charts' elements in the numbers the data says: one score point per history line, checks ×
 *   runs status cells, and in the incident's hour (the last of the window) the bars of the site
 *   that failed with exactly the counts of the audit rows on disk;
 * - light and dark both render (emulateMedia), print too (a PDF);
 * - screenshots kept in test-artifacts/ (doctor-report.png, doctor-report-dark.png).
 */
import {mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {chromium, type Browser} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {gbrain} from '../helpers/cli.js'
import {destroyAll, register} from '../helpers/cleanup.js'
import {brainPaths, check, parseReport, removeHomes, tempDir} from '../helpers/doctor-kit.js'
import {incidentBrain, stopServerMidCycle} from '../helpers/incident.js'
import {startCluster, type PgCluster} from '../helpers/pg-cluster.js'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-artifacts')
// Known-good here: without the background-networking flags Chromium opens connections at start.
// playwright-core gives each launch a fresh, empty profile directory of its own.
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

let cluster: PgCluster
let env: Record<string, string>
let paths: ReturnType<typeof brainPaths>
let browser: Browser | undefined

beforeAll(async () => {
  cluster = await startCluster()
  ;({paths, env} = await incidentBrain(cluster, {files: 60, entries: 2, links: 2}, 'gbrain-html-'))
}, 60_000)

afterAll(async () => {
  await browser?.close()
  removeHomes()
  await destroyAll()
})

interface AuditCounts {
  /** `site outcome` → rows. */
  retry: Map<string, number>
  reconnects: number
  reconnectsFailed: number
  disconnects: number
}

/** The audit rows on disk, counted the way the report's bars should count them. */
function auditOnDisk(): AuditCounts {
  const rows = (feature: string): Record<string, unknown>[] =>
    readdirSync(paths.audit)
      .filter((n) => n.startsWith(`${feature}-`) && n.endsWith('.jsonl'))
      .flatMap((n) => readFileSync(path.join(paths.audit, n), 'utf8').split('\n'))
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
  const retry = new Map<string, number>()
  for (const r of rows('batch-retry'))
    retry.set(`${String(r.site)} ${String(r.outcome)}`, (retry.get(`${String(r.site)} ${String(r.outcome)}`) ?? 0) + 1)
  const recovery = rows('pool-recovery')
  return {
    retry,
    reconnects: recovery.filter((r) => r.kind === 'reconnect_succeeded' || r.kind === 'reconnect_failed').length,
    reconnectsFailed: recovery.filter((r) => r.kind === 'reconnect_failed').length,
    disconnects: rows('db-disconnect').filter((r) => r.reason !== 'exit').length,
  }
}

const SERIES = {success: 'retries', exhausted: 'exhausted', recovered: 'recovered'} as const

describe('doctor --format html: the incident in a real browser', () => {
  it('shows the score history, the status strips and the retry spike of the failed site; no request leaves the page', async () => {
    // One run before the incident, the outage, two runs during it: four history lines with the HTML run.
    expect((await gbrain(['doctor', '--json'], env)).code).not.toBe(null)
    const outage = await stopServerMidCycle(cluster, env, ['--batch-size', '10'])
    expect(outage.result.code, outage.result.stderr).toBe(1)
    expect(outage.report.sources[0]!.spooled_batches).toBeGreaterThan(0)
    const during = parseReport(await gbrain(['doctor', '--json'], env))
    const exhaustedTotal = check(during, 'batch_retry_health').details?.exhausted_total as number
    expect(exhaustedTotal).toBeGreaterThan(0)
    expect((await gbrain(['doctor'], env)).code).toBe(1)

    const file = path.join(tempDir('gbrain-html-out-'), 'report.html')
    const r = await gbrain(['doctor', '--format', 'html', '--output-file', file], env)
    expect(r.code, r.stderr).toBe(1)
    expect(r.stdout).toBe('')
    const historyLines = readFileSync(path.join(paths.gbrain, 'doctor-history.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '').length
    expect(historyLines).toBe(4)
    const disk = auditOnDisk()
    expect(disk.retry.get('cycle.links exhausted')).toBeGreaterThan(0)
    expect([...disk.retry].filter(([k]) => k.endsWith(' exhausted')).reduce((n, [, v]) => n + v, 0)).toBe(exhaustedTotal)

    const t0 = performance.now()
    browser = await chromium.launch({executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000})
    const launchMs = performance.now() - t0
    const unregister = register({name: 'chromium', destroy: async () => browser?.close()})
    const url = pathToFileURL(file).href
    const context = await browser.newContext({offline: true, viewport: {width: 1000, height: 800}})
    const control = path.join(path.dirname(file), 'control.html')
    const pages = new Set([url, pathToFileURL(control).href])
    let routed = 0
    await context.route('**/*', async (route) => {
      if (pages.has(route.request().url())) return route.continue()
      routed += 1
      return route.abort()
    })
    // The harness can see a request: a control page (no CSP) that asks for an image is counted.
    writeFileSync(control, '<!doctype html><title>control</title><img src="http://192.0.2.1/x.png">\n')
    const probe = await context.newPage()
    const probed: string[] = []
    probe.on('request', (req) => void probed.push(req.url()))
    await probe.goto(pathToFileURL(control).href, {waitUntil: 'load'})
    expect(probed.filter((u) => u.startsWith('http://'))).toEqual(['http://192.0.2.1/x.png'])
    expect(routed).toBe(1)
    routed = 0
    await probe.close()

    const page = await context.newPage()
    const others: string[] = []
    const errors: string[] = []
    page.on('request', (req) => void (req.url() === url ? undefined : others.push(req.url())))
    page.on('console', (m) => void (m.type() === 'error' ? errors.push(m.text()) : undefined))
    page.on('pageerror', (e) => void errors.push(e.message))
    await page.goto(url, {waitUntil: 'load'})

    // The summary and every check, as the report says.
    expect(await page.locator('#summary').getAttribute('data-status')).toBe('unhealthy')
    expect(await page.locator('#checks tbody tr').count()).toBe(13)
    expect(await page.locator('#checks tr[data-check="connection"]').getAttribute('data-status')).toBe('fail')
    expect(await page.locator('#checks tr[data-check="dead_letter"] pre code').allTextContents()).toContain('gbrain repair --replay')

    // The score over the history: one point per line; the strip: checks × runs cells.
    expect(await page.locator('#score-chart [data-run]').count()).toBe(historyLines)
    expect(await page.locator('#status-strip .strip-row').count()).toBe(13)
    expect(await page.locator('#status-strip rect[data-cell]').count()).toBe(13 * historyLines)
    expect(
      await page.locator(`#status-strip rect[data-check="connection"][data-cell="${historyLines - 1}"]`).getAttribute('data-status'),
    ).toBe('fail')

    // The hourly bars: everything happened in the last hour of the window, with the audit's counts.
    expect(await page.locator('#audit').getAttribute('data-hours')).toBe('24')
    expect(await page.locator('rect.bar:not([data-hour="23"])').count()).toBe(0)
    const bars = page.locator('rect.bar[data-hour="23"]')
    const drawn = new Map<string, number>()
    for (const b of await bars.all()) {
      const [series, site, part, n] = await Promise.all(
        ['data-series', 'data-site', 'data-part', 'data-count'].map((a) => b.getAttribute(a)),
      )
      drawn.set(`${series} ${site ?? part ?? ''}`, Number(n))
    }
    const expected = new Map<string, number>()
    for (const [key, n] of disk.retry) {
      const [site, outcome] = key.split(' ') as [string, keyof typeof SERIES]
      expected.set(`${SERIES[outcome]} ${site}`, n)
    }
    if (disk.reconnectsFailed > 0) expected.set('reconnects failed', disk.reconnectsFailed)
    if (disk.reconnects - disk.reconnectsFailed > 0) expected.set('reconnects succeeded', disk.reconnects - disk.reconnectsFailed)
    if (disk.disconnects > 0) expected.set('disconnects ', disk.disconnects)
    expect(Object.fromEntries(drawn)).toEqual(Object.fromEntries(expected))
    // The spike is drawn: the failed site's exhausted bar is the band's tallest, with a real height.
    const spike = page.locator('rect.bar[data-hour="23"][data-series="exhausted"][data-site="cycle.links"]')
    const box = await spike.boundingBox()
    expect(box?.height).toBeGreaterThan(10)

    // Light, dark and print all render.
    const background = (): Promise<string> => page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    await page.emulateMedia({colorScheme: 'light'})
    expect(await background()).toBe('rgb(255, 255, 255)')
    mkdirSync(ARTIFACTS, {recursive: true})
    const shot = path.join(ARTIFACTS, 'doctor-report.png')
    await page.screenshot({path: shot, fullPage: true})
    await page.emulateMedia({colorScheme: 'dark'})
    expect(await background()).toBe('rgb(13, 17, 23)')
    await page.screenshot({path: path.join(ARTIFACTS, 'doctor-report-dark.png'), fullPage: true})
    await page.emulateMedia({media: 'print', colorScheme: 'dark'})
    expect(await background()).toBe('rgb(255, 255, 255)')
    const pdf = await page.pdf({format: 'A4'})
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-')

    expect(errors).toEqual([])
    expect(others).toEqual([])
    expect(routed).toBe(0)
    expect(statSync(shot).size).toBeGreaterThan(10_000)
    console.log(
      `[measure] chromium launch ${Math.round(launchMs)} ms, page checks and screenshots ${Math.round(performance.now() - t0 - launchMs)} ms; ` +
        `report ${statSync(file).size} bytes, ${historyLines} runs, ${exhaustedTotal} exhausted batches, screenshot ${shot}`,
    )
    await context.close()
    await browser.close()
    browser = undefined
    unregister()
  }, 120_000)
})
