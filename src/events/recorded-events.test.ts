import { describe, expect, it } from 'vitest';
import type { EventMessage } from '../adapters/bus/event-message.js';
import { RecordedEvents } from './recorded-events.js';

function event(id: string): EventMessage {
  return {
    id,
    type: 'user-updated',
    aggregate: 'user',
    timestamp: 1,
    payload: {},
    metadata: { source: 'test', version: 1 },
  };
}

describe('RecordedEvents', () => {
  it('keeps nothing until the relay runs here, and forgets when it stops', () => {
    const kept = new RecordedEvents();
    kept.add(event('a'));
    expect(kept.isEmpty).toBe(true);
    kept.keep();
    kept.add(event('b'));
    expect(kept.isEmpty).toBe(false);
    kept.forget();
    expect(kept.take('b')).toBeUndefined();
    kept.add(event('c'));
    expect(kept.isEmpty).toBe(true);
  });

  it('hands an event out once, the very object recorded, with its envelope text', () => {
    const kept = new RecordedEvents();
    kept.keep();
    const e = event('a');
    kept.add(e, JSON.stringify(e));
    const taken = kept.take('a');
    expect(taken?.event).toBe(e);
    expect(taken?.text).toBe(JSON.stringify(e));
    expect(kept.take('a')).toBeUndefined();
  });

  it('keeps no texts for a publisher that reads none (Publisher.takesText)', () => {
    const kept = new RecordedEvents();
    kept.keep(false);
    const e = event('a');
    kept.add(e, JSON.stringify(e));
    const taken = kept.take('a');
    expect(taken?.event).toBe(e);
    expect(taken?.text).toBeUndefined();
  });

  it('drops the oldest beyond its capacity (events of rolled-back transactions age out)', () => {
    const kept = new RecordedEvents(3);
    kept.keep();
    for (const id of ['a', 'b', 'c', 'd']) kept.add(event(id));
    expect(kept.take('a')).toBeUndefined();
    expect(['b', 'c', 'd'].map((id) => kept.take(id)?.event.id)).toEqual(['b', 'c', 'd']);
    expect(kept.isEmpty).toBe(true);
  });

  it('hands events out in any order, skipping ids it never kept and those of rolled-back rows', () => {
    const kept = new RecordedEvents(8);
    kept.keep();
    // 'x' was rolled back: its row never comes.
    for (const id of ['a', 'b', 'x', 'c', 'd', 'e']) kept.add(event(id));
    const taken = ['b', 'other', 'a', 'd', 'c', 'gone', 'e'].map((id) => kept.take(id)?.event.id);
    expect(taken).toEqual(['b', undefined, 'a', 'd', 'c', undefined, 'e']);
    expect(kept.isEmpty).toBe(false);
    // The ring goes round: 'x' ages out, the newest are found past the old slots.
    for (const id of ['f', 'g', 'h', 'i', 'j', 'k']) kept.add(event(id));
    expect(kept.take('x')).toBeUndefined();
    expect(['k', 'f', 'j', 'g', 'h', 'i'].map((id) => kept.take(id)?.event.id)).toEqual([
      'k',
      'f',
      'j',
      'g',
      'h',
      'i',
    ]);
    expect(kept.isEmpty).toBe(true);
  });

  it('forgets what it kept on clear, and keeps on', () => {
    const kept = new RecordedEvents();
    kept.keep();
    kept.add(event('a'));
    kept.clear();
    expect(kept.isEmpty).toBe(true);
    expect(kept.take('a')).toBeUndefined();
    kept.add(event('b'));
    expect(kept.take('b')?.event.id).toBe('b');
  });
});
