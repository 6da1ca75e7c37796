import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decide } from './version-lifecycle.js';
import { VersionStore } from './version-store.js';
import { VersionErrors } from './versions.errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The URI version of the matched route (`v1`); unset for unversioned routes. */
    apiVersion?: string;
  }
}

/** URI versioning puts the version right after the global prefix: `/api/v1/users/:id`. */
const VERSIONED_ROUTE = /^\/api\/(v\d+)(?:\/|$)/;

/** The version of a matched route template, or undefined for unversioned routes (/health). */
export function routeVersion(route: string | undefined): string | undefined {
  return route === undefined ? undefined : VERSIONED_ROUTE.exec(route)?.[1];
}

/**
 * Second in the guard chain: the lifecycle of the route's API version, from the in-process
 * version store (a Map lookup, no I/O). A deprecated version's responses get Deprecation,
 * Sunset and Link headers; a sunset version is 410 API_VERSION_SUNSET, except a platform
 * administrator's requests to that version's /versions routes, so the sunset can be undone.
 * The request's version is noted on it for its usage record (who calls a version is read
 * from the usage rollups).
 */
@Injectable()
export class VersionGuard implements CanActivate {
  constructor(private readonly store: VersionStore) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const route = request.routeOptions.url;
    const version = routeVersion(route);
    if (version === undefined) return true;
    const now = Date.now();
    request.apiVersion = version;

    const lifecycle = this.store.lifecycle(version);
    if (lifecycle === undefined) return true;
    const { isSunset, headers } = decide(lifecycle, now);
    // Set on the reply now, so errors raised later in the chain carry them too.
    void http.getResponse<FastifyReply>().headers(headers);
    if (isSunset && !this.mayUndoSunset(request, version)) {
      throw VersionErrors.sunset({ version }, headers);
    }
    return true;
  }

  private mayUndoSunset(request: FastifyRequest, version: string): boolean {
    const principal = request.principal;
    if (principal?.type !== 'user' || !principal.isPlatformAdmin) return false;
    const route = request.routeOptions.url ?? '';
    const versions = `/api/${version}/versions`;
    return route === versions || route.startsWith(`${versions}/`);
  }
}
