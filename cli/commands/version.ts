import type { Command } from 'commander'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { printJson, printLine } from '../output'
import { projectRoot } from '../paths'

export function register (program: Command): void {
  program.command('version')
    .description('print the devtrip-streams version and runtime facts')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) => {
      const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }
      const facts = { version: pkg.version, node: process.version, platform: `${process.platform}-${process.arch}` }
      if (options.json) printJson(facts)
      else printLine(`devtrip-streams ${facts.version} (node ${facts.node}, ${facts.platform})`)
    })
}
