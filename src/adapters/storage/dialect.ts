/** The two SQL engines easy-chat runs on; queries are the same Kysely code for both. */
export type Dialect = 'sqlite' | 'postgres';
