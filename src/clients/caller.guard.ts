import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { presentedApiKey } from '../http/api-key';
import type { Caller } from './caller';
import { ClientDirectory } from './client-directory';

type CallerRequest = Request & { caller?: Caller };

/** Resolves the request's key into its Caller (401/403 otherwise) for the route's handler (@CurrentCaller). */
@Injectable()
export class CallerGuard implements CanActivate {
  constructor(private readonly directory: ClientDirectory) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<CallerRequest>();
    request.caller = await this.directory.identify(presentedApiKey(request));
    return true;
  }
}

/** The Caller the CallerGuard resolved for this request. */
export const CurrentCaller = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<CallerRequest>().caller;
  if (!caller) throw new Error('CurrentCaller on a route without CallerGuard');
  return caller;
});
