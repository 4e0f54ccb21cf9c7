import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config';
import { SESSION_COOKIE } from '../auth';

/** Secure whenever the console is reached over https (directly, or per the public URL behind a proxy). */
const secure = (request: FastifyRequest, config: Config) => request.protocol === 'https' || config.PUBLIC_BASE_URL?.startsWith('https:') === true;

export function setSessionCookie(reply: FastifyReply, request: FastifyRequest, config: Config, token: string, expiresAt: Date): void {
  reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'strict', secure: secure(request, config), expires: expiresAt });
}

export function clearSessionCookie(reply: FastifyReply, request: FastifyRequest, config: Config): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: secure(request, config) });
}
