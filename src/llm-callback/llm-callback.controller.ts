import { Body, Controller, HttpCode, Param, Post, Req, UseInterceptors } from '@nestjs/common';
import type { Request } from 'express';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiResponse,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ErrorBodyDto, INVALID_RESULT_RESPONSE } from '../common/error-body.dto';
import { CallbackMetricsInterceptor } from './callback-metrics.interceptor';
import { CallbackAckDto, LlmCallbackDto } from './dto/llm-callback.dto';
import { LlmCallbackService } from './llm-callback.service';

export const CALLBACK_TOKEN_SCHEME = 'callback-token';
export const CALLBACK_BEARER_SCHEME = 'callback-bearer';

@ApiTags('llm-callback')
// Alternatives: the token in the query (as callback_url carries it) or as a Bearer token.
@ApiSecurity(CALLBACK_TOKEN_SCHEME)
@ApiSecurity(CALLBACK_BEARER_SCHEME)
@UseInterceptors(CallbackMetricsInterceptor)
@Controller('v1/llm/callback')
export class LlmCallbackController {
  constructor(private readonly callbacks: LlmCallbackService) {}

  @Post(':job_id')
  @HttpCode(200)
  @ApiOperation({
    summary: "The LLM server's webhook",
    description:
      'Authenticated by the per-job credential the relay sent with the job: POST to the callback_url as given (it ' +
      'carries ?token=…) or send Authorization: Bearer <callback_token>. The first result wins; the same result again ' +
      'is a no-op (status "duplicate"), a different one is 409. A result for a job the web service cancelled is ' +
      'acknowledged with status "cancelled" and dropped: stop working on it and stop retrying. With RESULT_SCHEMA ' +
      'set, an ok result must match ReviewResult: one that does not is refused with 422 invalid_result, its details ' +
      'listing what is wrong, and a corrected result may be sent until the callback deadline.',
  })
  @ApiBadRequestResponse({ description: 'Invalid body', type: ErrorBodyDto })
  @ApiResponse({ status: 413, description: 'Body over CALLBACK_MAX_BODY_BYTES', type: ErrorBodyDto })
  @ApiResponse({ status: 415, description: 'Body is not JSON', type: ErrorBodyDto })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong callback credential', type: ErrorBodyDto })
  @ApiNotFoundResponse({ description: 'No such job', type: ErrorBodyDto })
  @ApiConflictResponse({ description: 'A different result was already recorded', type: ErrorBodyDto })
  @ApiUnprocessableEntityResponse(INVALID_RESULT_RESPONSE)
  @ApiServiceUnavailableResponse({
    description:
      'The database does not answer (database_unavailable): nothing was recorded; call back again after Retry-After',
    type: ErrorBodyDto,
  })
  receive(
    @Param('job_id') jobId: string,
    @Body() callback: LlmCallbackDto,
    @Req() request: Request,
  ): Promise<CallbackAckDto> {
    return this.callbacks.acceptCallback(jobId, presentedToken(request), callback);
  }
}

/** Read from the request itself: as route parameters the credential would appear in OpenAPI as two required inputs. */
export function presentedToken(request: Request): string | undefined {
  const authorization = request.headers.authorization;
  const bearer = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization.trim())?.[1] : undefined;
  if (bearer) return bearer;
  const queryToken: unknown = request.query.token;
  return typeof queryToken === 'string' ? queryToken : undefined;
}
