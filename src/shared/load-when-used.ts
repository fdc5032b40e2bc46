import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/**
 * A client library (its CommonJS entry), loaded when a process is configured to use it
 * rather than when a module that can use it is imported. What a process loads stays in
 * its heap for good (each module's source, bytecode and top-level objects) and every
 * mark-compact marks it again: the PostgreSQL, MySQL, Redis, NATS, RabbitMQ and SMTP
 * clients were 7.5 MB of a SQLite server's 50 MB live heap (docs/performance-log.md, "What a
 * SQLite server's live heap is made of, and how often it is marked").
 */
export function loadWhenUsed<Library>(name: string): Library {
  return requireHere(name) as Library;
}
