import { allErrorSpecs } from './error-registry.js';

/** Renders docs/errors.md from the registry (scripts/gen-docs.ts writes it; a test keeps it current). */
export function renderErrorDocs(): string {
  const rows = allErrorSpecs()
    .sort((a, b) => a.code - b.code)
    .map((e) => `| ${e.code} | ${e.status} | ${e.module} | \`${e.key}\` | ${e.message} |`);
  return [
    '# Error codes',
    '',
    'Every error answer is the envelope `{"code", "msg", "data": null}` with the HTTP status',
    'below; WebSocket error frames carry the same `code` and `msg` in `data`. `msg` may be more',
    'specific than the default message listed here (for example it names the invalid field).',
    'Codes 1xxxxx are shared, 2xxxxx user, 3xxxxx social, 4xxxxx im, 5xxxxx event, 6xxxxx files, 7xxxxx push.',
    '',
    '<!-- Generated from src/catalogue/error-registry.ts by `npm run docs`; do not edit by hand. -->',
    '',
    '| code | HTTP | module | key | default message |',
    '| ---: | ---: | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
