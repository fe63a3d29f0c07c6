/**
 * `node --import <this> …`: records every module a command loads (ESM through a loader hook,
 * CommonJS through require.cache at exit) into $BENCH_TRACE_FILE, one path or URL a line.
 * Used once per command, untimed, to tell whether startup pulls in heavy packages.
 */
import {appendFileSync} from 'node:fs'
import {createRequire, register} from 'node:module'

const out = process.env.BENCH_TRACE_FILE
if (out) {
  register('./trace-hooks.js', import.meta.url, {data: {out}})
  const require = createRequire(import.meta.url)
  process.on('exit', () => {
    const cjs = Object.keys(require.cache)
    if (cjs.length > 0) appendFileSync(out, `${cjs.join('\n')}\n`)
  })
}
