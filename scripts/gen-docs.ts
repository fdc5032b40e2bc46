// Regenerates the documents derived from code: docs/errors.md, docs/events.md.
import { writeFileSync } from 'node:fs';
import { renderErrorDocs } from '../src/catalogue/error-docs.js';
import { renderEventDocs } from '../src/catalogue/event-catalogue.js';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorDocs());
console.log('wrote docs/errors.md');
writeFileSync(new URL('../docs/events.md', import.meta.url), renderEventDocs());
console.log('wrote docs/events.md');
