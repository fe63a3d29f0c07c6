/**
 * Exact golden output of every renderer for every fixture report. The files under __golden__ are
 * committed; a change to a renderer shows up as a diff there (update with `vitest -u` and review).
 */
import {describe, expect, it} from 'vitest'
import {
  renderGithub,
  renderGithubStepSummary,
  renderJson,
  renderJunit,
  renderNagios,
  renderPrometheus,
  renderTable,
} from '../../../src/render/index.js'
import {renderHtml} from '../../../src/render/html.js'
import {FIXTURES, pictureFixture} from './fixtures.js'

const RENDERERS = {
  'table.txt': (r) => renderTable(r, {color: false, unicode: true, width: 100}),
  'table-verbose.txt': (r) => renderTable(r, {color: false, unicode: true, verbose: true, width: 100}),
  'table-ascii.txt': (r) => renderTable(r, {color: false, unicode: false, verbose: true, width: 100}),
  'table-quiet.txt': (r) => renderTable(r, {color: false, unicode: true, quiet: true}),
  json: renderJson,
  'junit.xml': renderJunit,
  'github.txt': renderGithub,
  'github-summary.md': renderGithubStepSummary,
  'nagios.txt': renderNagios,
  prom: renderPrometheus,
} satisfies Record<string, (r: ReturnType<(typeof FIXTURES)[keyof typeof FIXTURES]>) => string>

describe.each(Object.entries(FIXTURES))('golden output: %s report', (fixture, build) => {
  it.each(Object.entries(RENDERERS))('%s', async (ext, renderer) => {
    await expect(renderer(build())).toMatchFileSnapshot(`./__golden__/${fixture}.${ext}`)
  })
})

// One HTML golden (its stylesheet would repeat in one per fixture): the summary, the checks and
// the charts; html.test.ts covers the page without a picture.
describe('golden output: html with the picture', () => {
  it('history, status strip and hourly audit bars', async () => {
    await expect(renderHtml(FIXTURES.unhealthy(), {picture: pictureFixture()})).toMatchFileSnapshot('./__golden__/unhealthy.picture.html')
  })
})

describe('golden output: table variants', () => {
  it('colour on (16-colour ANSI)', async () => {
    await expect(renderTable(FIXTURES.unhealthy(), {color: true, unicode: true, width: 100})).toMatchFileSnapshot(
      './__golden__/unhealthy.table-color.ansi',
    )
  })

  it('debug: the redacted stack of the crashed check', async () => {
    await expect(renderTable(FIXTURES.unknown(), {debug: true, width: 100})).toMatchFileSnapshot('./__golden__/unknown.table-debug.txt')
  })

  it('narrow terminal (60 columns) wraps messages and fixes', async () => {
    await expect(renderTable(FIXTURES.warnings(), {width: 60})).toMatchFileSnapshot('./__golden__/warnings.table-60.txt')
  })
})
