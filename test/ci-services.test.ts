import { describe, expect, it } from 'vitest';
import { HAS_PROTOC } from './support/protoc.js';

/**
 * Server-backed tests are skipped when their URL is unset. CI sets
 * CI_REQUIRE_SERVICES=1 so that a missing URL fails the run instead of
 * quietly skipping half the suite.
 */
describe.runIf(process.env.CI_REQUIRE_SERVICES === '1')('CI runs against every server', () => {
  it.each([
    'TEST_DATABASE_URL',
    'TEST_MYSQL_URL',
    'TEST_REDIS_URL',
    'TEST_NATS_URL',
    'TEST_AMQP_URL',
  ])('%s is set', (name) => {
    expect(process.env[name], name).toBeTruthy();
  });
  it('protoc is installed (the protobuf tests need it)', () => {
    expect(HAS_PROTOC).toBe(true);
  });
});
