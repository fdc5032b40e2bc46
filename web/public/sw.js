// easy-chat service worker: shows the server's Web Push notifications (docs/push.md).
// The server sends one only to a device with no live socket; a visible tab of the
// app got the message live and shows nothing more.

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  event.waitUntil(show(event.data));
});

async function show(data) {
  let n = {};
  try {
    n = data ? data.json() : {};
  } catch {
    n = { body: data ? data.text() : '' };
  }
  const tag = typeof n.tag === 'string' ? n.tag : undefined;
  if (n.recalled) {
    // Replace the recalled message's notification; none shown: nothing to say.
    const shown = tag ? await self.registration.getNotifications({ tag }) : [];
    if (shown.length === 0) return;
  } else {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    if (windows.some((w) => w.visibilityState === 'visible')) return;
  }
  if (typeof n.badge === 'number' && 'setAppBadge' in self.navigator) {
    self.navigator.setAppBadge(n.badge).catch(() => undefined);
  }
  await self.registration.showNotification(n.title || 'New message', {
    body: n.body || '',
    tag,
    data: n.data || {},
  });
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const conversationId = event.notification.data && event.notification.data.conversationId;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const url = conversationId ? `/#/c/${encodeURIComponent(conversationId)}` : '/';
      if (windows.length > 0) {
        const win = await windows[0].focus();
        if (win && 'navigate' in win) await win.navigate(url).catch(() => undefined);
        return;
      }
      await self.clients.openWindow(url);
    })(),
  );
});
