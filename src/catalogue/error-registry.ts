import { SocialErrors } from '../modules/social/social.errors.js';
import { ImErrors } from '../modules/im/im.errors.js';
import { FileErrors } from '../modules/files/files.errors.js';
import { PushErrors } from '../modules/push/push.errors.js';
import { EventErrors } from '../events/event.errors.js';
import { UserErrors } from '../modules/user/user.errors.js';
import { AdminErrors } from '../auth/admin.errors.js';
import type { ErrorSpec } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';

/**
 * Every error code of every module. docs/errors.md is checked against this list
 * by a test, and codes must be unique across modules.
 */
export const ERROR_REGISTRY: Record<string, Record<string, ErrorSpec>> = {
  common: CommonErrors,
  user: UserErrors,
  social: SocialErrors,
  im: ImErrors,
  event: { ...EventErrors, ...AdminErrors },
  files: FileErrors,
  push: PushErrors,
};

export function allErrorSpecs(): Array<ErrorSpec & { module: string }> {
  return Object.entries(ERROR_REGISTRY).flatMap(([module, specs]) =>
    Object.values(specs).map((spec) => ({ ...spec, module })),
  );
}
