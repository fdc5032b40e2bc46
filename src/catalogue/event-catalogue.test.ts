import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DomainEventSchemas } from './domain-events.js';
import { renderEventDocs } from './event-catalogue.js';

describe('event catalogue', () => {
  it('names every domain event type in lowercase {noun}-{action}', () => {
    for (const type of Object.keys(DomainEventSchemas)) {
      expect(type).toMatch(/^[a-z][a-z0-9_]*-[a-z][a-z0-9_]*$/);
    }
  });

  it('is documented in docs/events.md exactly as generated (run `npm run docs`)', () => {
    const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderEventDocs());
  });
});
