import { randomUUID } from 'node:crypto';
import { type ExecutionContext, createParamDecorator } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppError } from './app-error.js';
import type { Principal } from './principal.js';
import type { TenantScope } from '../database/tenant-scope.js';

/** The longest User-Agent kept (audit entries); the rest is cut. */
export const USER_AGENT_MAX_LENGTH = 512;
/**
 * The longest client address kept: an IPv6 address with an embedded IPv4 one (45) and a zone
 * (`%eth0`) fit. Only an X-Forwarded-For entry that a trusted proxy passed on unchecked can be
 * longer, and it is not an address anyway.
 */
export const IP_MAX_LENGTH = 64;

/** Who is acting and from where: what services need for tenancy and the audit trail. */
export interface RequestContext {
  principal: Principal | undefined;
  /** The client's address (X-Forwarded-For only from TRUST_PROXY peers); null outside a request. */
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

/** An authenticated request's context. */
export interface AuthenticatedContext extends RequestContext {
  principal: Principal;
}

export function requestContext(request: FastifyRequest): RequestContext {
  const agent = request.headers['user-agent'];
  return {
    principal: request.principal,
    ip: request.ip.slice(0, IP_MAX_LENGTH),
    userAgent: typeof agent === 'string' ? agent.slice(0, USER_AGENT_MAX_LENGTH) : null,
    requestId: request.id,
  };
}

/** The context of work no request asked for (start-up, the admin CLI), for its audit entries. */
export function systemContext(userAgent: string): RequestContext {
  return { principal: undefined, ip: null, userAgent, requestId: randomUUID() };
}

/** `@Ctx() ctx: RequestContext` in a controller: the request's principal, ip, agent and id. */
export const Ctx = createParamDecorator((_: unknown, context: ExecutionContext): RequestContext =>
  requestContext(context.switchToHttp().getRequest<FastifyRequest>()),
);

/** `@Auth() ctx: AuthenticatedContext`: the same, for routes the auth guard protects. */
export const Auth = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthenticatedContext => {
    const ctx = requestContext(context.switchToHttp().getRequest<FastifyRequest>());
    if (ctx.principal === undefined)
      throw new AppError('AUTHENTICATION_FAILED', 'Authentication required');
    return { ...ctx, principal: ctx.principal };
  },
);

/** The tenant every repository call of this request is confined to. */
export function tenantOf(ctx: AuthenticatedContext): TenantScope {
  return { organizationId: ctx.principal.organizationId };
}
