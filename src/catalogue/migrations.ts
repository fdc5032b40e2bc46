import type { MigrationList } from '../adapters/storage/migration-provider.js';
import * as m0006 from '../auth/migrations/0006-token-revocations.js';
import * as m0002 from '../events/migrations/0002-outbox.js';
import * as m0004 from '../events/migrations/0004-events.js';
import * as m0016 from '../events/migrations/0016-outbox-delete-published.js';
import * as m0008 from '../modules/files/migrations/0008-files.js';
import * as m0005 from '../modules/im/migrations/0005-im.js';
import * as m0007 from '../modules/im/migrations/0007-im-message-changes.js';
import * as m0012 from '../modules/im/migrations/0012-im-members-version.js';
import * as m0015 from '../modules/im/migrations/0015-im-lean-message-indexes.js';
import * as m0017 from '../modules/im/migrations/0017-im-message-pages.js';
import * as m0018 from '../modules/im/migrations/0018-im-conversations-without-rowid.js';
import * as m0019 from '../modules/im/migrations/0019-im-unread-by-notices.js';
import * as m0003 from '../modules/social/migrations/0003-social.js';
import * as m0009 from '../modules/social/migrations/0009-blacklist.js';
import * as m0010 from '../modules/push/migrations/0010-push-devices.js';
import * as m0014 from '../modules/push/migrations/0014-push-sent.js';
import * as m0011 from '../modules/social/migrations/0011-group-controls.js';
import * as m0001 from '../modules/user/migrations/0001-users.js';
import * as m0013 from '../modules/user/migrations/0013-password-reset-codes.js';

/**
 * Every migration, by name. Each lives beside the module that owns its tables; a
 * new one takes the next number (names are the keys applied databases remember,
 * so an existing name never changes).
 */
export const MIGRATIONS: MigrationList = {
  '0001-users': m0001,
  '0002-outbox': m0002,
  '0003-social': m0003,
  '0004-events': m0004,
  '0005-im': m0005,
  '0006-token-revocations': m0006,
  '0007-im-message-changes': m0007,
  '0008-files': m0008,
  '0009-blacklist': m0009,
  '0010-push-devices': m0010,
  '0011-group-controls': m0011,
  '0012-im-members-version': m0012,
  '0013-password-reset-codes': m0013,
  '0014-push-sent': m0014,
  '0015-im-lean-message-indexes': m0015,
  '0016-outbox-delete-published': m0016,
  '0017-im-message-pages': m0017,
  '0018-im-conversations-without-rowid': m0018,
  '0019-im-unread-by-notices': m0019,
};
