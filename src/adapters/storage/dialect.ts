/** The SQL engines easy-chat runs on; queries are the same Kysely code for all of them. */
export type Dialect = 'sqlite' | 'postgres' | 'mysql';
