import type { RouteOptions } from 'fastify';

/**
 * Which methods each fixed path answers, so a known path asked with another
 * method gets 405 and an `Allow` header instead of 404 (RFC 9110 §15.5.6).
 * Paths with parameters or wildcards (the /docs assets) are left to the 404.
 */
export class RouteMethods {
  private readonly byPath = new Map<string, Set<string>>();

  /** An onRoute hook: remembers the route's methods under its path. */
  readonly record = (route: RouteOptions): void => {
    if (/[:*]/.test(route.url)) return;
    const methods = this.byPath.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method.toUpperCase());
    this.byPath.set(route.url, methods);
  };

  /** The methods a path answers, sorted; empty when no route has this path. */
  allowed(path: string): string[] {
    return [...(this.byPath.get(path) ?? [])].sort();
  }
}
