import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ClientNotFoundError } from '../common/domain-errors';
import { DATABASE_UNAVAILABLE_RESPONSE, ErrorBodyDto } from '../common/error-body.dto';
import { API_KEY_SCHEME, BEARER_SCHEME } from '../http/api-key';
import { assertAdmin, type Caller } from './caller';
import { CallerGuard, CurrentCaller } from './caller.guard';
import { ClientsService } from './clients.service';
import {
  CLIENT_ID_PATTERN,
  ClientDto,
  ClientListDto,
  CreateClientDto,
  CreatedClientDto,
  IssuedApiKeyDto,
  ListClientsQueryDto,
  RotatedSigningSecretDto,
  RotateSigningSecretDto,
  UpdateClientDto,
} from './dto/client.dto';

const ENVIRONMENT_CONFLICT = {
  description:
    "`managed_by_environment`: the default client's keys and secret come from the environment; " +
    '`encryption_key_missing`: RELAY_ENCRYPTION_KEY is not set, so no secret can be stored',
  type: ErrorBodyDto,
};

/** The web services the relay serves, their API keys and signing secrets: admin keys (RELAY_ADMIN_KEYS) only. */
@ApiTags('clients')
@ApiSecurity(API_KEY_SCHEME)
@ApiBearerAuth(BEARER_SCHEME)
@ApiUnauthorizedResponse({ description: 'Missing or unknown API key', type: ErrorBodyDto })
@ApiForbiddenResponse({ description: 'Not an admin key (`admin_key_required`)', type: ErrorBodyDto })
@ApiServiceUnavailableResponse(DATABASE_UNAVAILABLE_RESPONSE)
@UseGuards(CallerGuard)
@Controller('v1/clients')
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a client (one web service) with its first API key and signing secret',
    description: 'The answer is the only place the key and the secret are ever shown.',
  })
  @ApiBadRequestResponse({ description: 'Invalid body', type: ErrorBodyDto })
  @ApiConflictResponse(ENVIRONMENT_CONFLICT)
  create(@CurrentCaller() caller: Caller, @Body() dto: CreateClientDto): Promise<CreatedClientDto> {
    assertAdmin(caller, 'Managing clients');
    return this.clients.create(dto);
  }

  @Get()
  @ApiOperation({ summary: 'List clients, oldest first (the built-in default client first)' })
  @ApiBadRequestResponse({ description: 'Invalid limit or cursor', type: ErrorBodyDto })
  list(@CurrentCaller() caller: Caller, @Query() query: ListClientsQueryDto): Promise<ClientListDto> {
    assertAdmin(caller, 'Managing clients');
    return this.clients.list(query);
  }

  @Get(':client_id')
  @ApiOperation({ summary: 'Read a client: settings, key ids and when its signing secrets expire' })
  @ApiNotFoundResponse({ description: 'No such client', type: ErrorBodyDto })
  get(@CurrentCaller() caller: Caller, @Param('client_id') clientId: string): Promise<ClientDto> {
    assertAdmin(caller, 'Managing clients');
    return this.clients.get(knownShape(clientId));
  }

  @Patch(':client_id')
  @ApiOperation({ summary: "Change a client's name, webhook URL prefixes or disabled flag" })
  @ApiBadRequestResponse({ description: 'Invalid body', type: ErrorBodyDto })
  @ApiNotFoundResponse({ description: 'No such client', type: ErrorBodyDto })
  update(
    @CurrentCaller() caller: Caller,
    @Param('client_id') clientId: string,
    @Body() dto: UpdateClientDto,
  ): Promise<ClientDto> {
    assertAdmin(caller, 'Managing clients');
    return this.clients.update(knownShape(clientId), dto);
  }

  @Post(':client_id/api-keys')
  @ApiOperation({ summary: 'Issue another API key (shown once), e.g. to replace one without downtime' })
  @ApiNotFoundResponse({ description: 'No such client', type: ErrorBodyDto })
  @ApiConflictResponse(ENVIRONMENT_CONFLICT)
  issueKey(@CurrentCaller() caller: Caller, @Param('client_id') clientId: string): Promise<IssuedApiKeyDto> {
    assertAdmin(caller, 'Managing clients');
    return this.clients.issueKey(knownShape(clientId));
  }

  @Delete(':client_id/api-keys/:key_id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key: refused from the next request on, on every replica' })
  @ApiNotFoundResponse({ description: 'No such client, or no such key of it', type: ErrorBodyDto })
  @ApiConflictResponse(ENVIRONMENT_CONFLICT)
  async revokeKey(
    @CurrentCaller() caller: Caller,
    @Param('client_id') clientId: string,
    @Param('key_id') keyId: string,
  ): Promise<void> {
    assertAdmin(caller, 'Managing clients');
    await this.clients.revokeKey(knownShape(clientId), keyId);
  }

  @Post(':client_id/signing-secret/rotate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate the signing secret, with a grace period in which the old and new secrets both sign',
    description:
      'Every delivery sent in the grace period carries a webhook-signature for each secret, newest first, and an ' +
      'X-Signature made with the new one. The change reaches every replica within one second. At most five ' +
      "secrets sign at once (the oldest drop first). See docs/receiving-deliveries.md for the receivers' procedure.",
  })
  @ApiBadRequestResponse({ description: 'Invalid body, or a supplied secret of the wrong form', type: ErrorBodyDto })
  @ApiNotFoundResponse({ description: 'No such client', type: ErrorBodyDto })
  @ApiConflictResponse(ENVIRONMENT_CONFLICT)
  rotate(
    @CurrentCaller() caller: Caller,
    @Param('client_id') clientId: string,
    @Body() dto: RotateSigningSecretDto,
  ): Promise<RotatedSigningSecretDto> {
    assertAdmin(caller, 'Managing clients');
    return this.clients.rotateSecret(knownShape(clientId), dto);
  }
}

/** An id no client could have is answered as an unknown one, before any database work. */
function knownShape(clientId: string): string {
  if (!CLIENT_ID_PATTERN.test(clientId)) throw new ClientNotFoundError(clientId.slice(0, 60));
  return clientId;
}
