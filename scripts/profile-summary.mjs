/**
 * Where a process's time went, by kind, from V8 CPU profiles: `node --cpu-prof
 * --cpu-prof-dir=DIR --cpu-prof-interval 500 bin/run.js doctor --json` a few times, then
 * `node scripts/profile-summary.mjs DIR` prints the median per kind over DIR's profiles. Each
 * sample goes to the kind of its innermost frame, or of the nearest caller that has one: Node's
 * bootstrap, module resolution and loading, compilation, first loads of Node's built-in modules,
 * JavaScript of the app and its packages, the database drivers, GC, idle (waiting on I/O).
 * docs/performance.md, "Start-up", shows its output before and after the bundle.
 */
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

const KINDS = [
  'node bootstrap',
  'module resolution, loading, linking',
  'compilation (parse, compile; code cache)',
  "first load of Node's built-in modules",
  'JavaScript: the CLI, oclif and their packages',
  'database drivers (postgres.js, PGlite)',
  'garbage collection',
  'idle (waiting on I/O and the database)',
  'other',
]

function kindOf(url, fn) {
  if (fn === '(garbage collector)') return KINDS[6]
  if (fn === '(idle)') return KINDS[7]
  if (/compileSourceTextModule|compileFunction|^\(compile/.test(fn) || url === 'node:vm') return KINDS[2]
  if (/internal\/bootstrap\/realm/.test(url) && /compileForInternalLoader|requireBuiltin|compileForPublicLoader/.test(fn)) return KINDS[3]
  if (/internal\/(bootstrap|process\/pre_execution|main\/run_main_module)|run_main/.test(url)) return KINDS[0]
  if (/internal\/modules\//.test(url)) return KINDS[1]
  if (/node_modules\/(postgres|@electric-sql)\//.test(url)) return KINDS[5]
  if (/\/dist\/|\/bin\/|node_modules/.test(url)) return KINDS[4]
  return undefined
}

function summarise(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const totals = Object.fromEntries([...KINDS, 'total'].map((k) => [k, 0]))
  profile.samples.forEach((id, i) => {
    const ms = profile.timeDeltas[i] / 1000
    let kind
    for (let at = id; at !== undefined && kind === undefined; at = parent.get(at)) {
      const frame = nodes.get(at).callFrame
      kind = kindOf(frame.url, frame.functionName)
    }
    totals[kind ?? 'other'] += ms
    totals.total += ms
  })
  return totals
}

const dir = process.argv[2]
if (!dir) throw new Error('usage: node scripts/profile-summary.mjs DIR (of .cpuprofile files)')
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .map((f) => summarise(path.join(dir, f)))
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
for (const k of [...KINDS, 'total'])
  console.log(
    `${median(all.map((t) => t[k]))
      .toFixed(1)
      .padStart(8)} ms  ${k}`,
  )
console.log(`(median of ${all.length} profiles)`)
