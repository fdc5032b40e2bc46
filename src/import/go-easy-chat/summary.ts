import type { ImportSummary } from './importer.js';

/** The summary as a few lines of text: per table, rows read, imported, present, skipped and why. */
export function formatSummary(summary: ImportSummary): string {
  const lines = [
    `${'table'.padEnd(16)} ${'read'.padStart(8)} ${'imported'.padStart(9)} ${'present'.padStart(8)} ${'skipped'.padStart(8)}`,
  ];
  for (const [table, s] of Object.entries(summary)) {
    const skipped = Object.values(s.skipped).reduce((a, b) => a + b, 0);
    lines.push(
      `${table.padEnd(16)} ${String(s.read).padStart(8)} ${String(s.imported).padStart(9)} ${String(s.present).padStart(8)} ${String(skipped).padStart(8)}`,
    );
    for (const [reason, n] of Object.entries(s.skipped)) {
      const examples = s.examples[reason] ?? [];
      lines.push(
        `  skipped ${n}: ${reason}${examples.length ? ` (e.g. ${examples.join(', ')})` : ''}`,
      );
    }
    for (const [note, n] of Object.entries(s.notes)) lines.push(`  note ${n}: ${note}`);
  }
  return lines.join('\n');
}
