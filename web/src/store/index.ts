import { ChangesStore } from './changes.js';
import { ContactsStore } from './contacts.js';
import { ConversationsStore } from './conversations.js';
import { StoreCore } from './core.js';
import { FilesStore } from './files.js';
import { GroupAdminStore } from './group-admin.js';
import { MessagesStore } from './messages.js';
import { SessionStore } from './session.js';

export type { ChatMessage, HistoryState, State } from './state.js';
export { mergeMessages } from './messages.js';
export { messagePreview } from './files.js';
export { displayName, remarkOf } from './names.js';
export { noticeText, systemNotice } from './notices.js';

/**
 * The app's state and actions around one SDK client, by concern. Components read
 * the state with useSyncExternalStore (`useAppState`); every change replaces it.
 */
export class Store extends StoreCore {
  readonly contacts = new ContactsStore(this);
  readonly conversations = new ConversationsStore(this);
  readonly messages = new MessagesStore(this);
  readonly files = new FilesStore(this);
  readonly changes = new ChangesStore(this);
  readonly groupAdmin = new GroupAdminStore(this);
  readonly session: SessionStore;

  constructor() {
    super();
    this.conversations.messages = this.messages;
    this.conversations.contacts = this.contacts;
    this.messages.conversations = this.conversations;
    this.messages.contacts = this.contacts;
    this.groupAdmin.contacts = this.contacts;
    // Order matters: the conversation list and messages before the social refresh.
    this.session = new SessionStore(
      this,
      [this.conversations, this.messages, this.changes, this.contacts, this.groupAdmin, this.files],
      () => this.conversations.markActiveRead(),
    );
  }
}

export const store = new Store();
