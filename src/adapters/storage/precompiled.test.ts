import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Precompiled } from './precompiled.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A transaction as `on` sees one, on no SQLite handle (PostgreSQL's, say). */
function transaction() {
  return { isTransaction: true, getExecutor: () => ({ adapter: {} }), executeQuery: () => {} };
}

describe('Precompiled.on', () => {
  it('does not keep the last transaction it was asked about alive', async () => {
    const statement = new Precompiled('select 1');
    let trx: ReturnType<typeof transaction> | undefined = transaction();
    const gone = new WeakRef(trx);
    // Asked twice: the second answer is the remembered one.
    expect(statement.on(trx as never)).toBeUndefined();
    expect(statement.on(trx as never)).toBeUndefined();
    trx = undefined;
    // A WeakRef's target lives to the end of the turn that made or read it.
    for (let i = 0; i < 5 && gone.deref() !== undefined; i += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(gone.deref()).toBeUndefined();
    // A new transaction is answered afresh.
    expect(statement.on(transaction() as never)).toBeUndefined();
  });
});
