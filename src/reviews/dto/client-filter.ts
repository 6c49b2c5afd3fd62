import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { CLIENT_ID_PATTERN } from '../../clients/dto/client.dto';

/** The `client_id` filter of the list, the feed and the summary, as one decorator. */
export function ClientIdFilter(): PropertyDecorator {
  return (target, property) => {
    ApiPropertyOptional({
      description:
        "Only this client's jobs. Admin keys: any client (absent: every client's). A client's key always reads its own " +
        'jobs only, and may name only itself here (another client_id is 403 `admin_key_required`).',
      pattern: CLIENT_ID_PATTERN.source,
    })(target, property);
    IsOptional()(target, property);
    Matches(CLIENT_ID_PATTERN, { message: 'client_id must be default or cli_ followed by 24 hex digits' })(
      target,
      property,
    );
  };
}

export class ClientFilterQueryDto {
  @ClientIdFilter()
  client_id?: string;
}
