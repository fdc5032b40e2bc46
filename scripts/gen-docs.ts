// Regenerates the documents derived from code: docs/errors.md.
import { writeFileSync } from 'node:fs';
import { renderErrorDocs } from '../src/errors/error-docs.js';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorDocs());
console.log('wrote docs/errors.md');
