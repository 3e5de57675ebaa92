/** Where things live on disk, the same whether running from sources (jest) or from dist/. */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'

function findProjectRoot (start: string): string {
  let dir = start
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'tsconfig.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`cannot find the devtrip-streams project root above ${start}`)
    dir = parent
  }
  return dir
}

export const projectRoot = findProjectRoot(__dirname)
/** git-ignored downloads (Kafka jars) */
export const cacheDir = join(projectRoot, '.cache')
/** git-ignored run-time state: infra.env, broker and Redis data, pids */
export const localDir = join(projectRoot, '.local')
