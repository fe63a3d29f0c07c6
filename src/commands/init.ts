import {Flags} from '@oclif/core'
import {promises as fs} from 'node:fs'
import {readConfigFile, type ResolvedTarget} from '../config/resolve.js'
import {BaseCommand} from '../cli/base-command.js'
import {ensurePrivateDir, writeFileAtomic} from '../shared/fs-atomic.js'
import {ensureSchema} from '../brain/schema.js'
import {prepareLedger} from '../engine/index.js'

export interface InitResult {
  engine: ResolvedTarget['engine']
  database: string
  source: ResolvedTarget['source']
  tables_created: string[]
  tables_existing: string[]
  config_file: string | null
}

export default class Init extends BaseCommand<typeof Init> {
  static override summary = 'Create the brain’s missing tables (idempotent; never alters or drops one)'
  static override description =
    'Works on the embedded PGlite brain (<home>/brain.pglite) by default, or on the Postgres named by --database-url, GBRAIN_DATABASE_URL, DATABASE_URL or the config file, first found. Running it twice changes nothing.'
  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --database-url postgres://user@db:5432/brain --write-config',
  ]
  static override flags = {
    'write-config': Flags.boolean({description: 'record the target in <home>/config.json (mode 0600; it holds the URL as given)'}),
  }

  async run(): Promise<InitResult> {
    const target = this.target()
    await ensurePrivateDir(target.paths.home)
    const engine = await this.engine(target, {create: true})
    const report = await ensureSchema(engine)
    // The loss ledger is made now, while there is room (engine/spool/loss-ledger.ts).
    await prepareLedger(target.paths.spoolDir)
    let configFile: string | null = null
    if (this.flags['write-config']) {
      const existing = readConfigFile(target.configFile.path) ?? {}
      const next =
        target.engine === 'postgres'
          ? {...existing, engine: 'postgres', database_url: target.url.clientUrl}
          : {...existing, engine: 'pglite', database_path: target.dataDir}
      await writeFileAtomic(target.configFile.path, JSON.stringify(next, null, 2) + '\n')
      await fs.chmod(target.configFile.path, 0o600)
      configFile = target.configFile.path
    }
    const result: InitResult = {
      engine: target.engine,
      database: target.display,
      source: target.source,
      tables_created: report.created,
      tables_existing: report.existing,
      config_file: configFile,
    }
    if (!this.jsonEnabled()) {
      this.log(`Brain ready: ${target.engine} at ${target.display} (from ${target.source})`)
      this.log(report.created.length > 0 ? `  created: ${report.created.join(', ')}` : '  nothing to create: every table already exists')
      if (configFile) this.log(`  config written: ${configFile}`)
      this.log('  next: gbrain sources add ID --path DIR, then gbrain cycle')
    }
    return result
  }
}
