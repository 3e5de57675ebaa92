/**
 * The one place that loads @platformatic/kafka.
 *
 * The library ships ES modules only and this project compiles to CommonJS: TypeScript refuses a plain
 * `import` of it (TS1479), but Node >= 20.19 can `require()` an ES module. So the types come from a type-only
 * import with resolution-mode "import", and the value from `require`. Jest transforms the package to CommonJS,
 * where the same `require` works. Nothing outside streams/kafka/platformatic/ may touch the library.
 */
import type * as Platformatic from '@platformatic/kafka' with { 'resolution-mode': 'import' }

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const kafka = require('@platformatic/kafka') as typeof Platformatic

export type { Platformatic }
