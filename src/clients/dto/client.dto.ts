import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  Validate,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
  type ValidationArguments,
} from 'class-validator';
import { IsOptionalNotNull } from '../../common/validators';
import { type Client, type ClientApiKey, type SigningSecret } from '../client.entity';
import { MAX_WEBHOOK_URL_PREFIXES, prefixProblem } from '../webhook-url-prefix';

export const CLIENT_ID_PATTERN = /^(default|cli_[0-9a-f]{24})$/;
export const MAX_GRACE_PERIOD_SECONDS = 604_800;
export const DEFAULT_GRACE_PERIOD_SECONDS = 86_400;
export const MAX_SETTING = 10_000_000;

const isoOrNull = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

@ValidatorConstraint({ name: 'webhookUrlPrefixes' })
class WebhookUrlPrefixes implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return Array.isArray(value) && value.every((item) => typeof item === 'string' && prefixProblem(item) === null);
  }

  defaultMessage(args: ValidationArguments): string {
    const items = Array.isArray(args.value) ? (args.value as unknown[]) : [];
    const bad = items.find((item) => typeof item !== 'string' || prefixProblem(item) !== null);
    const problem = typeof bad === 'string' ? prefixProblem(bad) : 'each entry must be a string';
    return `webhook_url_prefixes: ${problem}`;
  }
}

/** The fair-share settings of a client: its weight and its own limits (0: none), shown in every client answer. */
export class ClientSettingsDto {
  /** Its share of the LLM against the other clients with jobs waiting: with weights 3 and 1, 3 forwards of every 4. */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 1 })
  @IsOptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(100)
  weight?: number;

  /** Its jobs at the LLM at most (0: no cap of its own; LLM_MAX_IN_FLIGHT still caps all). */
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_SETTING, default: 0 })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(MAX_SETTING)
  max_in_flight?: number;

  /** Its jobs waiting for their forward at most; beyond it intake answers 503 `backlog_full` (0: none). */
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_SETTING, default: 0 })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(MAX_SETTING)
  max_backlog?: number;

  /** Its intake requests per INTAKE_RATE_WINDOW_SECONDS at most; beyond it 429 with Retry-After (0: none of its own). */
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_SETTING, default: 0 })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(MAX_SETTING)
  intake_rate_limit?: number;
}

export class CreateClientDto extends ClientSettingsDto {
  /**
   * A name for people (the console, logs of changes).
   * @example "Course platform"
   */
  @IsString()
  @Length(1, 200)
  name: string;

  /**
   * Where this client's webhook_url may point: absolute http(s) URLs, compared by scheme, host and port, then the path
   * on a segment boundary. Empty or absent: anywhere the relay allows.
   * @example ["https://lms.example.edu/hooks/"]
   */
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_WEBHOOK_URL_PREFIXES)
  @MaxLength(2048, { each: true })
  @Validate(WebhookUrlPrefixes)
  webhook_url_prefixes?: string[];
}

export class UpdateClientDto extends ClientSettingsDto {
  /** @example "Exam system" */
  @IsOptionalNotNull()
  @IsString()
  @Length(1, 200)
  name?: string;

  /** As for POST; `[]` lifts the restriction. */
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_WEBHOOK_URL_PREFIXES)
  @MaxLength(2048, { each: true })
  @Validate(WebhookUrlPrefixes)
  webhook_url_prefixes?: string[];

  /** `true` refuses the client's keys (403 `client_disabled`); its accepted jobs still finish. */
  @IsOptionalNotNull()
  @IsBoolean()
  disabled?: boolean;
}

export class RotateSigningSecretDto {
  /** How long the secrets signing until now keep signing beside the new one (0 to 604800; default 86400). */
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_GRACE_PERIOD_SECONDS, default: 86_400 })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(MAX_GRACE_PERIOD_SECONDS)
  grace_period_seconds?: number;

  /**
   * The new secret, when the receiver was given it first: `whsec_` + base64 of 24 to 64 bytes, stored and returned as
   * given. Absent: the relay generates one.
   */
  @ApiPropertyOptional({ pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$', maxLength: 100 })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(100)
  signing_secret?: string;
}

export class ListClientsQueryDto {
  /** Page size (1 to 100). */
  @ApiPropertyOptional({ type: 'integer', default: 20 })
  @IsOptionalNotNull()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  /** `next_cursor` of the previous page. */
  @ApiPropertyOptional({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 200 })
  @IsOptionalNotNull()
  @IsString()
  @Length(1, 200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a next_cursor value given by the relay' })
  cursor?: string;
}

export class ApiKeyInfoDto {
  /** @example "key_0a1b2c3d4e5f60718293" */
  key_id: string;
  created_at: string;
  /** Last request made with it (written at most once a minute); null when never used. */
  last_used_at: string | null;

  static from(key: ClientApiKey): ApiKeyInfoDto {
    return { key_id: key.id, created_at: isoOrNull(key.createdAt)!, last_used_at: isoOrNull(key.lastUsedAt) };
  }
}

export class SigningSecretInfoDto {
  created_at: string;
  /** When it stops signing; null for the newest. */
  expires_at: string | null;

  static from(secret: SigningSecret): SigningSecretInfoDto {
    return { created_at: isoOrNull(secret.createdAt)!, expires_at: isoOrNull(secret.expiresAt) };
  }
}

/** A client as the management API shows it: never a key or a secret. */
export class ClientDto {
  /** @example "cli_3f9c2a7be0d14c55a1e6b0c7" */
  client_id: string;
  name: string;
  webhook_url_prefixes: string[];
  disabled: boolean;
  weight: number;
  max_in_flight: number;
  max_backlog: number;
  intake_rate_limit: number;
  /** `true` for the built-in `default` client: its keys and secret come from the environment. */
  managed_by_environment: boolean;
  created_at: string;
  updated_at: string;
  /** Its API keys, by id (the keys themselves are shown only once, when issued). */
  api_keys: ApiKeyInfoDto[];
  /** The secrets signing its deliveries now, newest first (never the secrets themselves). */
  signing_secrets: SigningSecretInfoDto[];

  static from(client: Client, keys: ClientApiKey[], secrets: SigningSecret[], managed: boolean): ClientDto {
    return {
      client_id: client.id,
      name: client.name,
      webhook_url_prefixes: client.webhookUrlPrefixes,
      disabled: client.disabled,
      weight: client.weight,
      max_in_flight: client.maxInFlight,
      max_backlog: client.maxBacklog,
      intake_rate_limit: client.intakeRateLimit,
      managed_by_environment: managed,
      created_at: isoOrNull(client.createdAt)!,
      updated_at: isoOrNull(client.updatedAt)!,
      api_keys: keys.map((key) => ApiKeyInfoDto.from(key)),
      signing_secrets: secrets.map((secret) => SigningSecretInfoDto.from(secret)),
    };
  }
}

/** The answer to POST /v1/clients: the client, its first API key and its signing secret, shown this once. */
export class CreatedClientDto extends ClientDto {
  /** Shown only in this answer: store it now. */
  api_key: string;
  /** Shown only in this answer: give it to the web service, which verifies deliveries with it. */
  signing_secret: string;
}

export class ClientListDto {
  items: ClientDto[];
  limit: number;
  next_cursor: string | null;
}

export class IssuedApiKeyDto {
  key_id: string;
  /** Shown only in this answer. */
  api_key: string;
  created_at: string;
}

export class RotatedSigningSecretDto {
  /** The secret signing from now on (as supplied, or generated). */
  signing_secret: string;
  /** When the secrets that signed until now stop signing. */
  previous_expires_at: string;
}
